import { KinesisProducer } from 'shardline';
import { PrometheusMetrics } from '../../../src/metrics/prometheus-metrics';
import { kinesaliteEndpoint } from '../../harness/endpoints';
import { createStream, localKinesis, uniqueName } from '../polling/polling-test-kit';

function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.split(' ').pop());
}

describe('producer metrics (kinesalite)', () => {
  it('exports delivered records, Kinesis records (aggregation), bytes, calls and pending records at scrape time', async () => {
    const client = localKinesis(kinesaliteEndpoint());
    const stream = uniqueName('prod-metrics');
    await createStream(client, stream, 2);
    const prometheus = new PrometheusMetrics({ processMetrics: false });
    const aggregated = new KinesisProducer(client, { streamName: stream, aggregate: true });
    const plain = new KinesisProducer(client, { streamName: stream });
    prometheus.observeProducer(aggregated);
    try {
      const result = await aggregated.putMany(Array.from({ length: 200 }, (_, i) => ({ data: { i }, partitionKey: `k${i % 8}` })));
      expect(result.failedCount).toBe(0);
      const text = await prometheus.render();
      expect(sample(text, `shardline_producer_records_total{stream="${stream}",result="delivered"}`)).toBe(200);
      expect(sample(text, `shardline_producer_records_total{stream="${stream}",result="failed"}`)).toBe(0);
      const kinesisRecords = sample(text, `shardline_producer_kinesis_records_total{stream="${stream}"}`)!;
      expect(kinesisRecords).toBeGreaterThan(0);
      expect(kinesisRecords).toBeLessThan(200); // aggregated: several user records per Kinesis record
      expect(sample(text, `shardline_producer_bytes_total{stream="${stream}"}`)).toBeGreaterThan(200);
      expect(sample(text, `shardline_producer_pending_records{stream="${stream}"}`)).toBe(0);

      // A second producer of the same stream adds to the same series; counters read the totals again at each scrape.
      prometheus.observeProducer(plain);
      await plain.putMany(Array.from({ length: 30 }, (_, i) => ({ data: { i }, partitionKey: `p${i}` })));
      await aggregated.putMany([{ data: { last: true }, partitionKey: 'k0' }]);
      const again = await prometheus.render();
      expect(sample(again, `shardline_producer_records_total{stream="${stream}",result="delivered"}`)).toBe(231);
      expect(sample(again, `shardline_producer_kinesis_records_total{stream="${stream}"}`)).toBe(kinesisRecords + 31);
    } finally {
      await aggregated.close();
      await plain.close();
      client.destroy();
    }
  });
});
