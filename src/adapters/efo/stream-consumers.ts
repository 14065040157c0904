import {
  DeregisterStreamConsumerCommand,
  DescribeStreamConsumerCommand,
  DescribeStreamSummaryCommand,
  ListStreamConsumersCommand,
  RegisterStreamConsumerCommand,
  type Consumer,
  type ConsumerDescription as SdkConsumerDescription,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import { ConfigurationError, StartupError, StreamAdminError } from '../../core/errors';
import { type Logger } from '../../core/logger';
import { backoffWithJitter } from '../../core/sleep';
import { classifyKinesisError } from '../polling/kinesis-error-kind';
import { consumerNameProblem } from './consumer-name';

/** A registered stream consumer (enhanced fan-out). */
export interface StreamConsumerInfo {
  readonly name: string;
  readonly arn: string;
  /** CREATING, ACTIVE or DELETING. */
  readonly status: string;
  readonly createdAt?: Date;
}

/** A fan-out call was refused for lack of an IAM permission: one line naming the permission (exit 1 in the CLI). */
export class FanOutPermissionError extends StartupError {}

/** Options of {@link StreamConsumers.ensure}. */
export interface EnsureConsumerOptions {
  /** Bound on waiting for the consumer to become ACTIVE. Default 120,000. */
  readonly activeTimeoutMs?: number;
  /** Time between two DescribeStreamConsumer calls while waiting. Default 1,000. */
  readonly pollIntervalMs?: number;
  /** Progress lines while waiting go here (at most one every 10 s). */
  readonly logger?: Logger;
  readonly signal?: AbortSignal;
  /** Random numbers for the jitter. Default Math.random. */
  readonly random?: () => number;
}

const PROGRESS_EVERY_MS = 10_000;

/**
 * The stream consumers of enhanced fan-out: find or register one (idempotent, waiting until ACTIVE), list them, and
 * deregister one. Calls go through an ordinary (HTTP/1.1) client; only SubscribeToShard needs HTTP/2.
 */
export class StreamConsumers {
  constructor(private readonly client: KinesisClient) {}

  /** The stream's ARN (DescribeStreamSummary), or `stream` itself when it is one. */
  async streamArn(stream: string, signal?: AbortSignal): Promise<string> {
    if (stream.startsWith('arn:')) return stream;
    const out = await this.call('DescribeStreamSummary', stream, () => this.client.send(new DescribeStreamSummaryCommand({ StreamName: stream }), opts(signal)));
    const arn = out.StreamDescriptionSummary?.StreamARN;
    if (arn === undefined) throw new StreamAdminError(`DescribeStreamSummary gave no ARN for stream ${stream}`);
    return arn;
  }

  /** The consumer named `name` of the stream, or `undefined` when there is none. */
  async describe(stream: string, name: string, signal?: AbortSignal): Promise<StreamConsumerInfo | undefined> {
    const streamArn = await this.streamArn(stream, signal);
    try {
      const out = await this.call('DescribeStreamConsumer', stream, () =>
        this.client.send(new DescribeStreamConsumerCommand({ StreamARN: streamArn, ConsumerName: name }), opts(signal)),
      );
      return out.ConsumerDescription === undefined ? undefined : toInfo(out.ConsumerDescription);
    } catch (error) {
      if (classifyKinesisError(error) === 'not-found') return undefined;
      throw error;
    }
  }

  /**
   * The consumer named `name`, registered if it does not exist yet (a name another process registers at the same
   * time is found again), once it is ACTIVE.
   * @throws ConfigurationError for an invalid name; FanOutPermissionError when a permission is missing;
   *   StartupError when it is not ACTIVE within `activeTimeoutMs`.
   */
  async ensure(stream: string, name: string, options: EnsureConsumerOptions = {}): Promise<StreamConsumerInfo> {
    const problem = consumerNameProblem(name);
    if (problem !== undefined) throw new ConfigurationError(problem);
    const { signal, logger } = options;
    const random = options.random ?? Math.random;
    const timeoutMs = options.activeTimeoutMs ?? 120_000;
    const pollMs = options.pollIntervalMs ?? 1_000;
    const started = Date.now();
    const streamArn = await this.streamArn(stream, signal);
    let lastProgress = started;
    for (let attempt = 0; ; attempt++) {
      let consumer = await this.describe(streamArn, name, signal);
      if (consumer === undefined) {
        try {
          const out = await this.call('RegisterStreamConsumer', stream, () =>
            this.client.send(new RegisterStreamConsumerCommand({ StreamARN: streamArn, ConsumerName: name }), opts(signal)),
          );
          if (out.Consumer !== undefined) consumer = toInfo(out.Consumer);
          logger?.info(`Registered stream consumer ${name} on ${stream} (enhanced fan-out is billed per consumer-shard-hour)`);
        } catch (error) {
          // Taken meanwhile (another process registered it) or too many registrations at once: look again.
          const kind = classifyKinesisError(error);
          if (!(error instanceof Error && error.name === 'ResourceInUseException') && kind !== 'throttled') throw error;
        }
      }
      if (consumer?.status === 'ACTIVE') return consumer;
      const waited = Date.now() - started;
      if (waited >= timeoutMs) {
        throw new StartupError(
          `stream consumer ${name} of ${stream} is still ${consumer?.status ?? 'not registered'} after ${Math.round(waited / 1000)} s: ` +
            `check it with 'shardline streams consumers ${stream}', or raise the wait bound`,
        );
      }
      if (Date.now() - lastProgress >= PROGRESS_EVERY_MS) {
        lastProgress = Date.now();
        logger?.info(`Waiting for stream consumer ${name} to be ACTIVE (${consumer?.status ?? 'registering'}, ${Math.round(waited / 1000)} s of ${Math.round(timeoutMs / 1000)} s)`);
      }
      await abortableSleep(Math.max(pollMs / 2, backoffWithJitter(attempt, pollMs, pollMs, random)), signal);
    }
  }

  /** Every consumer of the stream (ListStreamConsumers, with paging). */
  async list(stream: string, signal?: AbortSignal): Promise<StreamConsumerInfo[]> {
    const streamArn = await this.streamArn(stream, signal);
    const consumers: StreamConsumerInfo[] = [];
    let nextToken: string | undefined;
    do {
      const token = nextToken;
      const out = await this.call('ListStreamConsumers', stream, () =>
        this.client.send(new ListStreamConsumersCommand(token === undefined ? { StreamARN: streamArn } : { StreamARN: streamArn, NextToken: token }), opts(signal)),
      );
      consumers.push(...(out.Consumers ?? []).map(toInfo));
      nextToken = out.NextToken;
    } while (nextToken !== undefined);
    return consumers;
  }

  /**
   * Deregisters the consumer named `name` (it goes to DELETING; its subscriptions end).
   * @throws StreamAdminError when the stream has no such consumer.
   */
  async deregister(stream: string, name: string, signal?: AbortSignal): Promise<void> {
    const problem = consumerNameProblem(name);
    if (problem !== undefined) throw new ConfigurationError(problem);
    const streamArn = await this.streamArn(stream, signal);
    try {
      await this.call('DeregisterStreamConsumer', stream, () =>
        this.client.send(new DeregisterStreamConsumerCommand({ StreamARN: streamArn, ConsumerName: name }), opts(signal)),
      );
    } catch (error) {
      if (classifyKinesisError(error) === 'not-found') {
        throw new StreamAdminError(`stream ${stream} has no consumer named ${name}: list them with 'shardline streams consumers ${stream}'`, { cause: error });
      }
      throw error;
    }
  }

  /** Runs a call; an access denial becomes a {@link FanOutPermissionError} naming the permission. */
  private async call<T>(operation: string, stream: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      throw permissionError(error, operation, stream) ?? error;
    }
  }
}

/**
 * A {@link FanOutPermissionError} naming `kinesis:<operation>` when `error` is an access denial, else `undefined`.
 */
export function permissionError(error: unknown, operation: string, stream: string): FanOutPermissionError | undefined {
  if (!(error instanceof Error) || !/AccessDenied|UnauthorizedOperation|NotAuthorized/.test(error.name)) return undefined;
  const resource = operation === 'SubscribeToShard' || operation === 'DescribeStreamConsumer' ? 'the stream consumer' : 'the stream';
  return new FanOutPermissionError(
    `enhanced fan-out on ${stream} needs the IAM permission kinesis:${operation} on ${resource} (${error.name}); grant it, ` +
      'with kinesis:RegisterStreamConsumer, kinesis:DescribeStreamConsumer and kinesis:SubscribeToShard, or use --adapter polling',
    { cause: error },
  );
}

function toInfo(consumer: Consumer | SdkConsumerDescription): StreamConsumerInfo {
  return {
    name: consumer.ConsumerName ?? '',
    arn: consumer.ConsumerARN ?? '',
    status: consumer.ConsumerStatus ?? 'UNKNOWN',
    ...(consumer.ConsumerCreationTimestamp === undefined ? {} : { createdAt: consumer.ConsumerCreationTimestamp }),
  };
}

function opts(signal: AbortSignal | undefined): { abortSignal?: AbortSignal } {
  return signal === undefined ? {} : { abortSignal: signal };
}

function abortableSleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) return reject(signal.reason as Error);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
