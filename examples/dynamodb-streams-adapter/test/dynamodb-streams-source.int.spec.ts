import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileCheckpointStore, ShardlineApp, StartupError, createLogger, type CheckpointStore } from 'shardline';
import { DynamoDbStreamsRecordSource, type DynamoDbStreamsRecordSourceOptions, type StreamChange } from '../src';
import {
  CHANGE_LOG,
  ChangeLog,
  FlightChanges,
  createStreamTable,
  deleteFlight,
  localDynamoDb,
  localStreams,
  putFlight,
  uniqueTable,
  updateSeats,
} from './streams-test-kit';

/* DynamoDbStreamsRecordSource against moto's DynamoDB Streams: changes reach a decorated consumer in order, a restart
   resumes after the checkpoint, a failed batch is delivered again, and a missing table fails start-up in one line. */

const dynamo = localDynamoDb();
const streams = localStreams();
const logger = createLogger({ level: 'warn' });
let directory: string;

beforeAll(() => {
  directory = mkdtempSync(join(tmpdir(), 'shardline-ddb-streams-'));
});
afterAll(async () => {
  await logger.close();
  dynamo.destroy();
  streams.destroy();
  rmSync(directory, { recursive: true, force: true });
});

const fileStore = (tableName: string): CheckpointStore => new FileCheckpointStore({ directory, applicationName: 'flights-changes', streamName: tableName });

function source(tableName: string, store: CheckpointStore, extra: Partial<DynamoDbStreamsRecordSourceOptions> = {}): DynamoDbStreamsRecordSource {
  return new DynamoDbStreamsRecordSource({ client: streams, dynamoDbClient: dynamo, tableName, checkpointStore: store, idlePollIntervalMs: 100, logger, ...extra });
}

async function startApp(src: DynamoDbStreamsRecordSource, log: ChangeLog): Promise<ShardlineApp> {
  return ShardlineApp.start({ consumer: FlightChanges, source: src, logger, providers: [{ provide: CHANGE_LOG, useValue: log }] });
}

describe('DynamoDbStreamsRecordSource on moto', () => {
  it('delivers INSERT, MODIFY and REMOVE changes in order, with keys and both images as plain JSON', async () => {
    const table = uniqueTable('flights');
    await createStreamTable(dynamo, table);
    await putFlight(dynamo, table, 'AA100', 'LAX', 180);
    await putFlight(dynamo, table, 'UA200', 'SFO', 150);
    await updateSeats(dynamo, table, 'AA100', 175);
    await deleteFlight(dynamo, table, 'UA200');

    const log = new ChangeLog();
    const store = fileStore(table);
    const src = source(table, store);
    const app = await startApp(src, log);
    try {
      await log.waitFor(4);
      expect(log.changes.map((c) => `${c.eventName} ${idOf(c)}`)).toEqual(['INSERT AA100', 'INSERT UA200', 'MODIFY AA100', 'REMOVE UA200']);
      expect(log.changes[0]).toMatchObject({ tableName: table, newImage: { id: 'AA100', dest: 'LAX', seats: 180 }, streamViewType: 'NEW_AND_OLD_IMAGES' });
      expect(log.changes[0]?.oldImage).toBeUndefined();
      expect(log.changes[2]).toMatchObject({ oldImage: { seats: 180 }, newImage: { seats: 175 } });
      expect(log.changes[3]).toMatchObject({ oldImage: { id: 'UA200', dest: 'SFO' } });
      expect(log.changes[3]?.newImage).toBeUndefined();
      // The record's sequence number is the stream record's, increasing.
      expect(log.sequenceNumbers).toEqual(log.changes.map((c) => c.sequenceNumber));
      expect([...log.sequenceNumbers].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1))).toEqual(log.sequenceNumbers);

      // A change made while the app runs arrives too.
      await putFlight(dynamo, table, 'DL300', 'BOS');
      await log.waitFor(5);
      expect(log.changes[4]).toMatchObject({ eventName: 'INSERT', keys: { id: 'DL300' } });
    } finally {
      await app.stop();
      await src.close();
    }
    // Checkpointed after the last handled batch, in the store given.
    const reopened = fileStore(table);
    await reopened.open();
    const [shard] = await reopened.list();
    await reopened.close();
    expect(shard?.checkpoint?.sequenceNumber).toBe(log.sequenceNumbers[4]);
  });

  it('resumes after its checkpoint on restart: nothing lost, nothing handled before delivered again', async () => {
    const table = uniqueTable('restart');
    await createStreamTable(dynamo, table);
    for (let i = 0; i < 3; i++) await putFlight(dynamo, table, `F${i}`, 'JFK');

    const first = new ChangeLog();
    const src1 = source(table, fileStore(table));
    const app1 = await startApp(src1, first);
    await first.waitFor(3);
    await app1.stop();
    await src1.close();

    // Written while no consumer runs.
    await updateSeats(dynamo, table, 'F0', 90);
    await deleteFlight(dynamo, table, 'F1');

    const second = new ChangeLog();
    const src2 = source(table, fileStore(table));
    const app2 = await startApp(src2, second);
    try {
      await second.waitFor(2);
      await sleep(500); // room for a wrong re-delivery to show up
      expect(second.changes.map((c) => `${c.eventName} ${idOf(c)}`)).toEqual(['MODIFY F0', 'REMOVE F1']);
      expect(second.sequenceNumbers.filter((s) => first.sequenceNumbers.includes(s))).toEqual([]);
    } finally {
      await app2.stop();
      await src2.close();
    }
  });

  it('does not checkpoint past a batch whose handler failed: the next run gets it again (at-least-once)', async () => {
    const table = uniqueTable('failing');
    await createStreamTable(dynamo, table);
    await putFlight(dynamo, table, 'OK1', 'ORD');

    const first = new ChangeLog();
    const src1 = source(table, fileStore(table));
    const app1 = await startApp(src1, first);
    await first.waitFor(1);
    first.failOnItem = 'BAD';
    await putFlight(dynamo, table, 'BAD', 'ORD');
    // maxRetries 0 and the default `stop` policy: the shard stops, checkpointed only up to OK1.
    const outcome = await Promise.race([app1.done.then(() => 'completed', (e: Error) => e.message), sleep(20_000).then(() => 'timed out')]);
    expect(outcome).toMatch(/stopped/i);
    await app1.stop();
    await src1.close();
    expect(first.changes).toHaveLength(1);

    const second = new ChangeLog();
    const src2 = source(table, fileStore(table));
    const app2 = await startApp(src2, second);
    try {
      await second.waitFor(1);
      await sleep(300);
      expect(second.changes.map((c) => idOf(c))).toEqual(['BAD']);
    } finally {
      await app2.stop();
      await src2.close();
    }
  });

  it('starts at LATEST when told to: changes made before the first start are skipped', async () => {
    const table = uniqueTable('latest');
    await createStreamTable(dynamo, table);
    await putFlight(dynamo, table, 'OLD', 'MIA');
    const log = new ChangeLog();
    const src = source(table, fileStore(table), { initialPosition: 'LATEST' });
    const app = await startApp(src, log);
    try {
      // The reader has its LATEST iterator once the shard was opened: wait for the first (empty) poll.
      await sleep(1_000);
      await putFlight(dynamo, table, 'NEW', 'MIA');
      await log.waitFor(1);
      await sleep(300);
      expect(log.changes.map((c) => idOf(c))).toEqual(['NEW']);
    } finally {
      await app.stop();
      await src.close();
    }
  });

  it('fails start-up with one StartupError naming the table when it does not exist', async () => {
    const table = uniqueTable('missing');
    const src = source(table, fileStore(table), { startupTimeoutMs: 2_000 });
    const log = new ChangeLog();
    const app = await startApp(src, log);
    const error = await app.done.then(
      () => undefined,
      (e: unknown) => e,
    );
    await app.stop();
    expect(error).toBeInstanceOf(StartupError);
    expect((error as Error).message).toContain(table);
    expect((error as Error).message).not.toContain('\n');
  });
});

function idOf(change: StreamChange): string {
  return typeof change.keys.id === 'string' ? change.keys.id : JSON.stringify(change.keys.id);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
