import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { readFileSync } from 'node:fs';
import { requireBuiltCli } from '../../chaos/harness/consumer-process';
import { pollingScenario } from '../../chaos/harness/scenario';
import { DynamoDbCheckpointStore } from '../../../src/checkpoint-stores/dynamodb-checkpoint-store';
import { dynamodbEndpoint, TEST_CREDENTIALS, TEST_REGION } from '../../harness/endpoints';
import { uniqueName } from '../polling/polling-test-kit';
import { fleetWorker } from './fleet-kit';

jest.setTimeout(90_000);

describe('polling fleet next to a running Java KCL application (kinesalite + dynalite)', () => {
  it('refuses to run on a lease table a live KCL 3 worker reports to: exit 1 with one line saying what to do', async () => {
    requireBuiltCli();
    const s = await pollingScenario('fleet-kcl', 2);
    const table = uniqueName('fleet-kcl');
    const dynamo = new DynamoDBClient({ endpoint: dynamodbEndpoint(), region: TEST_REGION, credentials: TEST_CREDENTIALS });
    try {
      // The table as KCL 3.5 keeps it: a lease of its worker and that worker's metrics item, reported just now.
      const store = new DynamoDbCheckpointStore({ tableName: table, client: dynamo });
      await store.open();
      await store.close();
      const kclWorker = 'f3c1a2b4-kcl-worker';
      await dynamo.send(
        new PutItemCommand({
          TableName: table,
          Item: {
            leaseKey: { S: 'shardId-000000000000' },
            leaseOwner: { S: kclWorker },
            leaseCounter: { N: '42' },
            checkpoint: { S: 'TRIM_HORIZON' },
            checkpointSubSequenceNumber: { N: '0' },
            ownerSwitchesSinceCheckpoint: { N: '0' },
            entityType: { S: 'LEASE' },
          },
        }),
      );
      await dynamo.send(
        new PutItemCommand({
          TableName: table,
          Item: { leaseKey: { S: kclWorker }, entityType: { S: 'WORKER_METRICS' }, lut: { N: String(Math.floor(Date.now() / 1000)) } },
        }),
      );
      const worker = fleetWorker(s, table, 'poller', dynamodbEndpoint());
      const started = worker.runs.start();
      let timer: NodeJS.Timeout | undefined;
      const code = await Promise.race([started.exited, new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), 60_000)))]);
      clearTimeout(timer);
      await worker.runs.cleanup();
      const stderr = readFileSync(started.stderrFile, 'utf8');
      expect({ code, stderr }).toMatchObject({ code: 1 });
      const errorLines = stderr.split('\n').filter((line) => /KCL 3 worker/.test(line));
      expect(errorLines.length).toBeGreaterThan(0);
      expect(errorLines.at(-1)).toMatch(/a KCL 3 worker \(f3c1a2b4-kcl-worker\) reported metrics to this lease table \d+ s ago: stop the other consumer/);
      // Nothing was read and no lease was taken from the KCL worker.
      expect(readFileSync(s.log, { encoding: 'utf8', flag: 'a+' })).toBe('');
    } finally {
      dynamo.destroy();
      s.client.destroy();
    }
  });
});
