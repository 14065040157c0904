import { ShardlineError } from '../core/errors';

/** Why a lease-table call failed without a conditional-check answer. */
export type LeaseTableFailure = 'throttled' | 'network' | 'other';

/**
 * A lease-table call failed (throttling, a network error, a server error). Returned inside a result, never thrown by
 * the coordinator's loops: a failed renewal keeps the lease until the worker's own view of its expiry.
 * `mayHaveApplied` is true when the write may have reached the table (the response was lost).
 */
export class LeaseTableError extends ShardlineError {
  readonly failure: LeaseTableFailure;
  readonly mayHaveApplied: boolean;
  constructor(message: string, options: ErrorOptions & { failure: LeaseTableFailure; mayHaveApplied?: boolean }) {
    super(message, options);
    this.failure = options.failure;
    this.mayHaveApplied = options.mayHaveApplied ?? false;
  }
}

/**
 * Another lease consumer uses the same table in a way shardline cannot share safely (a KCL 3 application, or
 * foreign workers renewing leases). The message is one line that says what was found and what to do.
 */
export class LeaseConflictError extends ShardlineError {}
