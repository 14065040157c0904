import { type LeaseTableError } from './lease-errors';
import { type Lease, type LeaseCheckpoint, type LeaseScan, type NewLease } from './lease';

/** Result of a scan. */
export type LeaseScanResult = { readonly outcome: 'ok'; readonly scan: LeaseScan } | { readonly outcome: 'error'; readonly error: LeaseTableError };

/** Result of a single-item read. */
export type LeaseGetResult =
  | { readonly outcome: 'ok'; readonly lease: Lease | undefined }
  | { readonly outcome: 'error'; readonly error: LeaseTableError };

/** Result of a create-if-absent. */
export type LeaseCreateResult =
  | { readonly outcome: 'ok' }
  | { readonly outcome: 'exists' }
  | { readonly outcome: 'error'; readonly error: LeaseTableError };

/**
 * Result of a write conditioned on the lease counter (and, except for take, on the owner). `lost` is the conditional
 * failure: someone else wrote the lease since the counter we hold, so we no longer own it. `leaseCounter` is the
 * counter the item has after a successful write.
 */
export type LeaseWriteResult =
  | { readonly outcome: 'ok'; readonly leaseCounter: number }
  | { readonly outcome: 'lost' }
  | { readonly outcome: 'error'; readonly error: LeaseTableError };

/**
 * A lease table with the KCL's conditional-write semantics (docs/leases.md, "Writes"). Every write but `create` is
 * conditioned on the lease counter and raises it by one; conditional failures are results, not exceptions, so the
 * coordinator can tell "lost" from "try again". Implementations never throw for a table error either.
 */
export interface LeaseTable {
  /** Reads every item (a full scan). Non-lease items are reported apart. */
  scan(): Promise<LeaseScanResult>;
  /** Reads one lease (strongly consistent), to recognise a write whose response was lost. */
  get(leaseKey: string): Promise<LeaseGetResult>;
  /** Creates a lease if there is none with that key: counter 0, no owner. */
  create(lease: NewLease): Promise<LeaseCreateResult>;
  /** `leaseCounter = held` → `held + 1`. */
  renew(leaseKey: string, owner: string, heldCounter: number): Promise<LeaseWriteResult>;
  /**
   * `leaseCounter = observed.leaseCounter` → `+1`, `leaseOwner := newOwner` (the owner is not checked: this is how an
   * expired or stolen lease changes hands); `ownerSwitchesSinceCheckpoint` + 1 when the owner changes.
   */
  take(observed: Lease, newOwner: string): Promise<LeaseWriteResult>;
  /** `leaseOwner = owner AND leaseCounter = held` → counter + 1, the checkpoint fields, `ownerSwitchesSinceCheckpoint := 0`. */
  checkpoint(leaseKey: string, owner: string, heldCounter: number, checkpoint: LeaseCheckpoint): Promise<LeaseWriteResult>;
  /** `leaseOwner = owner AND leaseCounter = held` → REMOVE `leaseOwner`, counter + 1 (others may take it at once). */
  release(leaseKey: string, owner: string, heldCounter: number): Promise<LeaseWriteResult>;
}
