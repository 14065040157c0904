import {
  CreateStreamCommand,
  DecreaseStreamRetentionPeriodCommand,
  DeleteStreamCommand,
  DescribeStreamSummaryCommand,
  IncreaseStreamRetentionPeriodCommand,
  ListShardsCommand,
  ListStreamsCommand,
  MergeShardsCommand,
  SplitShardCommand,
  UpdateShardCountCommand,
  type KinesisClient,
  type Shard,
  type StreamDescriptionSummary,
} from '@aws-sdk/client-kinesis';
import { inject, injectable } from 'tsyringe';
import { ShardlineError, StreamAdminError } from '../core/errors';
import { sleep } from '../core/sleep';
import { KINESIS_CLIENT } from '../producer/producer-options';
import { type ShardDescription, type StreamDescription, type StreamListEntry } from './stream-description';

/** Options of {@link StreamAdmin}. */
export interface StreamAdminOptions {
  /** Time between two status checks while waiting. Default 500. */
  readonly pollIntervalMs?: number;
  /** Bound on waiting for ACTIVE (or for a deletion). Default 300 000. */
  readonly waitTimeoutMs?: number;
}

/** Options of {@link StreamAdmin.createStream}. */
export interface CreateStreamOptions {
  /** Provisioned shards. Default 1 (ignored in on-demand mode). */
  readonly shardCount?: number;
  /** On-demand capacity mode instead of provisioned. Default false. */
  readonly onDemand?: boolean;
  /** Retention period in hours (24 to 8760); changed after creation when not 24. */
  readonly retentionHours?: number;
  /** Wait until the stream is ACTIVE. Default true. */
  readonly wait?: boolean;
}

/** Whether a change waits for the stream to be ACTIVE again. */
export interface WaitOption {
  /** Default true. */
  readonly wait?: boolean;
}

const MAX_HASH_KEY = (1n << 128n) - 1n;

/**
 * Stream administration: create (provisioned or on-demand) and wait until ACTIVE, describe, list, delete, merge two
 * adjacent shards, split a shard at its midpoint or at a hash key, update the shard count and change retention.
 * Invalid requests (shards not adjacent, a closed shard, a stream not ACTIVE, an unknown stream) throw a
 * {@link StreamAdminError} saying what to do, before anything is sent when it can be checked locally.
 *
 * @example
 * ```ts
 * const admin = new StreamAdmin(createKinesisClient({ endpoint: 'http://127.0.0.1:4568' }));
 * await admin.createStream('flights', { shardCount: 2 });
 * await admin.splitShard('flights', 'shardId-000000000000');
 * ```
 */
@injectable()
export class StreamAdmin {
  private readonly pollIntervalMs: number;
  private readonly waitTimeoutMs: number;

  /**
   * @param client - the Kinesis client (give it an HTTP/1.1 NodeHttpHandler; `createKinesisClient` does)
   * @param options - polling interval and wait bound
   */
  constructor(@inject(KINESIS_CLIENT) private readonly client: KinesisClient, options: StreamAdminOptions = {}) {
    this.pollIntervalMs = options.pollIntervalMs ?? 500;
    this.waitTimeoutMs = options.waitTimeoutMs ?? 300_000;
  }

  /** Creates a stream and (by default) waits until it is ACTIVE. */
  async createStream(streamName: string, options: CreateStreamOptions = {}): Promise<StreamDescription> {
    const shardCount = options.shardCount ?? 1;
    if (!options.onDemand && (!Number.isSafeInteger(shardCount) || shardCount < 1)) {
      throw new StreamAdminError(`a provisioned stream needs a shard count of 1 or more, got ${shardCount}`);
    }
    await this.call(
      streamName,
      'create', () => this.client.send(new CreateStreamCommand(
        options.onDemand ? { StreamName: streamName, StreamModeDetails: { StreamMode: 'ON_DEMAND' } } : { StreamName: streamName, ShardCount: shardCount },
      ),));
    if (options.retentionHours !== undefined && options.retentionHours !== 24) {
      await this.waitUntilActive(streamName);
      await this.setRetention(streamName, options.retentionHours);
    }
    return options.wait === false ? this.describeStream(streamName) : this.waitUntilActive(streamName);
  }

  /** Polls until the stream is ACTIVE, then describes it; throws after `waitTimeoutMs`. */
  async waitUntilActive(streamName: string): Promise<StreamDescription> {
    const deadline = Date.now() + this.waitTimeoutMs;
    for (;;) {
      const summary = await this.summary(streamName);
      if (summary.StreamStatus === 'ACTIVE') return this.describeStream(streamName);
      if (Date.now() >= deadline) {
        throw new StreamAdminError(`stream ${streamName} is still ${summary.StreamStatus ?? 'not ACTIVE'} after ${this.waitTimeoutMs} ms: check it with 'shardline streams describe ${streamName}' and wait longer`);
      }
      await sleep(this.pollIntervalMs);
    }
  }

  /** The stream's summary and every shard (open and closed) with hash-key ranges, parents and sequence ranges. */
  async describeStream(streamName: string): Promise<StreamDescription> {
    const summary = await this.summary(streamName);
    const shards = await this.listShards(streamName);
    return {
      streamName: summary.StreamName ?? streamName,
      streamArn: summary.StreamARN ?? '',
      status: summary.StreamStatus ?? 'UNKNOWN',
      mode: (summary.StreamModeDetails?.StreamMode) ?? 'PROVISIONED',
      retentionHours: summary.RetentionPeriodHours ?? 24,
      openShardCount: summary.OpenShardCount ?? shards.filter((s) => s.open).length,
      encryption: summary.EncryptionType ?? 'NONE',
      createdAt: summary.StreamCreationTimestamp?.toISOString(),
      shards,
    };
  }

  /** Every stream of the account and region, by name. */
  async listStreams(): Promise<StreamListEntry[]> {
    const entries: StreamListEntry[] = [];
    let nextToken: string | undefined;
    let exclusiveStart: string | undefined;
    for (;;) {
      const page = await this.call('', 'list', () => this.client.send(new ListStreamsCommand(nextToken !== undefined ? { NextToken: nextToken } : { ExclusiveStartStreamName: exclusiveStart })));
      const summaries = page.StreamSummaries ?? [];
      if (summaries.length > 0) {
        for (const s of summaries) entries.push({ streamName: s.StreamName ?? '', status: s.StreamStatus, mode: s.StreamModeDetails?.StreamMode });
      } else {
        for (const name of page.StreamNames ?? []) entries.push({ streamName: name, status: undefined, mode: undefined });
      }
      if (page.HasMoreStreams !== true) break;
      nextToken = page.NextToken;
      exclusiveStart = entries.at(-1)?.streamName;
      if (nextToken === undefined && exclusiveStart === undefined) break;
    }
    return entries.sort((a, b) => a.streamName.localeCompare(b.streamName));
  }

  /** Deletes a stream and (by default) waits until it is gone. */
  async deleteStream(streamName: string, options: WaitOption & { enforceConsumerDeletion?: boolean } = {}): Promise<void> {
    await this.call(streamName, 'delete', () => this.client.send(new DeleteStreamCommand({ StreamName: streamName, EnforceConsumerDeletion: options.enforceConsumerDeletion ?? false })));
    if (options.wait === false) return;
    const deadline = Date.now() + this.waitTimeoutMs;
    for (;;) {
      try {
        await this.summary(streamName);
      } catch (error) {
        if (error instanceof StreamAdminError && error.cause instanceof Error && error.cause.name === 'ResourceNotFoundException') return;
        throw error;
      }
      if (Date.now() >= deadline) throw new StreamAdminError(`stream ${streamName} still exists ${this.waitTimeoutMs} ms after DeleteStream: check it with 'shardline streams list'`);
      await sleep(this.pollIntervalMs);
    }
  }

  /**
   * Merges two adjacent open shards (in either order) into one, and (by default) waits until the stream is ACTIVE.
   * @throws StreamAdminError if a shard is unknown or closed, the two are not adjacent, or the stream is not ACTIVE
   */
  async mergeShards(streamName: string, shardId: string, otherShardId: string, options: WaitOption = {}): Promise<StreamDescription> {
    const description = await this.requireActive(streamName);
    const a = this.openShard(description, shardId);
    const b = this.openShard(description, otherShardId);
    const [low, high] = BigInt(a.startingHashKey) < BigInt(b.startingHashKey) ? [a, b] : [b, a];
    if (BigInt(low.endingHashKey) + 1n !== BigInt(high.startingHashKey)) {
      const neighbours = description.shards.filter((s) => s.open && (BigInt(s.endingHashKey) + 1n === BigInt(a.startingHashKey) || BigInt(a.endingHashKey) + 1n === BigInt(s.startingHashKey)));
      throw new StreamAdminError(
        `shards ${a.shardId} and ${b.shardId} of stream ${streamName} are not adjacent (their hash-key ranges do not touch), so they cannot be merged: ` +
          (neighbours.length > 0 ? `${a.shardId} can merge with ${neighbours.map((s) => s.shardId).join(' or ')}` : `${a.shardId} has no open neighbour`),
      );
    }
    await this.call(streamName, 'merge', () => this.client.send(new MergeShardsCommand({ StreamName: streamName, ShardToMerge: low.shardId, AdjacentShardToMerge: high.shardId })));
    return options.wait === false ? this.describeStream(streamName) : this.waitUntilActive(streamName);
  }

  /**
   * Splits an open shard in two at `newStartingHashKey` (the first hash key of the upper child), by default the
   * midpoint of its range, and (by default) waits until the stream is ACTIVE.
   * @throws StreamAdminError if the shard is unknown or closed, too small to split, the key is outside the range, or the stream is not ACTIVE
   */
  async splitShard(streamName: string, shardId: string, options: WaitOption & { newStartingHashKey?: string } = {}): Promise<StreamDescription> {
    const description = await this.requireActive(streamName);
    const shard = this.openShard(description, shardId);
    const start = BigInt(shard.startingHashKey);
    const end = BigInt(shard.endingHashKey);
    let key: bigint;
    if (options.newStartingHashKey !== undefined) {
      if (!/^\d+$/.test(options.newStartingHashKey) || BigInt(options.newStartingHashKey) > MAX_HASH_KEY) {
        throw new StreamAdminError(`a hash key is a decimal integer between 0 and 2^128 - 1, got ${JSON.stringify(options.newStartingHashKey)}`);
      }
      key = BigInt(options.newStartingHashKey);
      if (key <= start || key > end) {
        throw new StreamAdminError(
          `hash key ${key} is not inside shard ${shard.shardId} (${start}..${end}): give a key greater than ${start} and at most ${end}, or leave it out to split at the midpoint`,
        );
      }
    } else {
      if (end === start) throw new StreamAdminError(`shard ${shard.shardId} owns a single hash key and cannot be split`);
      key = start + (end - start + 1n) / 2n;
    }
    await this.call(streamName, 'split', () => this.client.send(new SplitShardCommand({ StreamName: streamName, ShardToSplit: shard.shardId, NewStartingHashKey: key.toString() })));
    return options.wait === false ? this.describeStream(streamName) : this.waitUntilActive(streamName);
  }

  /** Sets the number of open shards (uniform scaling) and (by default) waits until the stream is ACTIVE. */
  async updateShardCount(streamName: string, targetShardCount: number, options: WaitOption = {}): Promise<StreamDescription> {
    if (!Number.isSafeInteger(targetShardCount) || targetShardCount < 1) throw new StreamAdminError(`the target shard count must be 1 or more, got ${targetShardCount}`);
    const description = await this.requireActive(streamName);
    if (description.mode === 'ON_DEMAND') throw new StreamAdminError(`stream ${streamName} is on-demand: Kinesis scales it by itself, so its shard count cannot be set`);
    await this.call(streamName, 'scale', () => this.client.send(new UpdateShardCountCommand({ StreamName: streamName, TargetShardCount: targetShardCount, ScalingType: 'UNIFORM_SCALING' })));
    return options.wait === false ? this.describeStream(streamName) : this.waitUntilActive(streamName);
  }

  /** Changes the retention period (24 to 8760 hours), increasing or decreasing as needed. */
  async setRetention(streamName: string, hours: number, options: WaitOption = {}): Promise<StreamDescription> {
    if (!Number.isSafeInteger(hours) || hours < 24 || hours > 8760) throw new StreamAdminError(`the retention period must be a whole number of hours from 24 to 8760, got ${hours}`);
    const description = await this.requireActive(streamName);
    if (hours > description.retentionHours) {
      await this.call(streamName, 'retention', () => this.client.send(new IncreaseStreamRetentionPeriodCommand({ StreamName: streamName, RetentionPeriodHours: hours })));
    } else if (hours < description.retentionHours) {
      await this.call(streamName, 'retention', () => this.client.send(new DecreaseStreamRetentionPeriodCommand({ StreamName: streamName, RetentionPeriodHours: hours })));
    } else {
      return description;
    }
    return options.wait === false ? this.describeStream(streamName) : this.waitUntilActive(streamName);
  }

  private async requireActive(streamName: string): Promise<StreamDescription> {
    const description = await this.describeStream(streamName);
    if (description.status !== 'ACTIVE') {
      throw new StreamAdminError(`stream ${streamName} is ${description.status}, not ACTIVE: wait for the current change to finish ('shardline streams describe ${streamName}') and try again`);
    }
    return description;
  }

  private openShard(description: StreamDescription, shardId: string): ShardDescription {
    const shard = description.shards.find((s) => s.shardId === shardId);
    const open = description.shards.filter((s) => s.open).map((s) => s.shardId);
    if (shard === undefined) throw new StreamAdminError(`stream ${description.streamName} has no shard ${shardId}: its open shards are ${open.join(', ')}`);
    if (!shard.open) throw new StreamAdminError(`shard ${shardId} of stream ${description.streamName} is closed (already split or merged): use one of its open shards ${open.join(', ')}`);
    return shard;
  }

  private async summary(streamName: string): Promise<StreamDescriptionSummary> {
    const response = await this.call(streamName, 'describe', () => this.client.send(new DescribeStreamSummaryCommand({ StreamName: streamName })));
    if (response.StreamDescriptionSummary === undefined) throw new StreamAdminError(`DescribeStreamSummary returned nothing for stream ${streamName}`);
    return response.StreamDescriptionSummary;
  }

  private async listShards(streamName: string): Promise<ShardDescription[]> {
    const shards: Shard[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.call(streamName, 'describe', () => this.client.send(new ListShardsCommand(nextToken !== undefined ? { NextToken: nextToken } : { StreamName: streamName })));
      shards.push(...(page.Shards ?? []));
      nextToken = page.NextToken;
    } while (nextToken !== undefined);
    return shards.map(toShardDescription).sort((a, b) => a.shardId.localeCompare(b.shardId));
  }

  /** Sends a command, turning service errors into StreamAdminErrors that say what to do. */
  private async call<T>(streamName: string, action: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      throw explain(streamName, action, error);
    }
  }
}

function toShardDescription(shard: Shard): ShardDescription {
  const description: {
    -readonly [K in keyof ShardDescription]: ShardDescription[K];
  } = {
    shardId: shard.ShardId ?? '',
    startingHashKey: shard.HashKeyRange?.StartingHashKey ?? '0',
    endingHashKey: shard.HashKeyRange?.EndingHashKey ?? '0',
    startingSequenceNumber: shard.SequenceNumberRange?.StartingSequenceNumber ?? '',
    open: shard.SequenceNumberRange?.EndingSequenceNumber === undefined,
  };
  if (shard.ParentShardId !== undefined) description.parentShardId = shard.ParentShardId;
  if (shard.AdjacentParentShardId !== undefined) description.adjacentParentShardId = shard.AdjacentParentShardId;
  if (shard.SequenceNumberRange?.EndingSequenceNumber !== undefined) description.endingSequenceNumber = shard.SequenceNumberRange.EndingSequenceNumber;
  return description;
}

function explain(streamName: string, action: string, error: unknown): ShardlineError {
  if (error instanceof ShardlineError) return error;
  const name = error instanceof Error ? error.name : 'Error';
  const detail = error instanceof Error ? error.message : String(error);
  const options = { cause: error };
  switch (name) {
    case 'ResourceNotFoundException':
      return new StreamAdminError(`stream ${streamName} not found: check its name and region ('shardline streams list'), or create it with 'shardline streams create ${streamName}'`, options);
    case 'ResourceInUseException':
      return action === 'create'
        ? new StreamAdminError(`stream ${streamName} already exists (or is being deleted): pick another name, or delete it first`, options)
        : new StreamAdminError(`stream ${streamName} is busy with another change (${detail}): wait until it is ACTIVE and try again`, options);
    case 'LimitExceededException':
      return new StreamAdminError(`Kinesis refused to ${action} stream ${streamName}: a limit was reached (${detail}); wait or ask AWS for a higher limit`, options);
    case 'InvalidArgumentException':
    case 'ValidationException':
      return new StreamAdminError(`Kinesis refused to ${action} stream ${streamName}: ${detail}`, options);
    case 'UnknownOperationException':
      return new StreamAdminError(`the Kinesis endpoint does not support '${action}' (${detail}); kinesalite lacks some operations, use kinesis-local or AWS`, options);
    default:
      return new StreamAdminError(`could not ${action} stream ${streamName || '(list)'}: ${name}: ${detail}`, options);
  }
}
