import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  ListShardsCommand,
  PutRecordsCommand,
  type KinesisClient,
  type Shard,
} from '@aws-sdk/client-kinesis';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, type AppLogger } from '../../../src/core/logger';
import { createKinesisClient } from '../../../src/kinesis/create-kinesis-client';
import { kinesisEndpoint } from '../../harness/endpoints';

/** A KinesisClient on kinesis-local (HTTP/1.1 handler, dummy credentials). */
export function localKinesis(endpoint: string = kinesisEndpoint()): KinesisClient {
  return createKinesisClient({ endpoint, region: 'us-east-1' });
}

/** A unique stream name per test. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 7)}`;
}

/** A fresh temporary folder. */
export function tempDir(prefix = 'shardline-polling-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Creates a stream and waits until it is ACTIVE. */
export async function createStream(client: KinesisClient, name: string, shards: number): Promise<void> {
  await client.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }));
  await waitActive(client, name);
}

/** Waits until the stream is ACTIVE (after a create, split or merge). */
export async function waitActive(client: KinesisClient, name: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const out = await client.send(new DescribeStreamSummaryCommand({ StreamName: name }));
    if (out.StreamDescriptionSummary?.StreamStatus === 'ACTIVE') return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`stream ${name} did not become ACTIVE`);
}

/** Every shard of the stream. */
export async function listShards(client: KinesisClient, name: string): Promise<Shard[]> {
  return (await client.send(new ListShardsCommand({ StreamName: name }))).Shards ?? [];
}

/** One record to put: an id, its partition key and its index within that key (to check order). */
export interface TestRecord {
  readonly id: string;
  readonly key: string;
  readonly n: number;
}

/** Makes `count` records spread over `keys` partition keys, ids prefixed with `tag`. */
export function makeRecords(tag: string, count: number, keys: number, start = 0): TestRecord[] {
  return Array.from({ length: count }, (_, i) => {
    const index = start + i;
    return { id: `${tag}-${index}`, key: `k${index % keys}`, n: Math.floor(index / keys) };
  });
}

/** Puts records as JSON, in order, 250 per PutRecords call. */
export async function putRecords(client: KinesisClient, stream: string, records: readonly TestRecord[]): Promise<void> {
  for (let i = 0; i < records.length; i += 250) {
    const chunk = records.slice(i, i + 250);
    const out = await client.send(
      new PutRecordsCommand({
        StreamName: stream,
        Records: chunk.map((r) => ({ Data: Buffer.from(JSON.stringify(r)), PartitionKey: r.key })),
      }),
    );
    if ((out.FailedRecordCount ?? 0) > 0) throw new Error(`${out.FailedRecordCount} records failed`);
  }
}

/** A logger whose lines are kept in memory (and not printed). */
export function memoryLogger(level: 'info' | 'debug' = 'info'): { logger: AppLogger; lines: string[] } {
  const lines: string[] = [];
  const logger = createLogger({ level, destination: 'none' }, { sink: (line) => lines.push(line) });
  return { logger, lines };
}

/** Polls `check` (sync or async) until it returns true, or fails after `timeoutMs` with `describe()`. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, describe: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${describe()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
