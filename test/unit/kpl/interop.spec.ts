/**
 * Cross-checks the codec against the reference Node.js implementation published by AWS Labs
 * (`aws-kinesis-agg`, protobufjs based). Requires the devDependency `aws-kinesis-agg@4.2.8`.
 */
import { randomBytes } from 'node:crypto';
import * as awsKinesisAgg from 'aws-kinesis-agg';
import { KplAggregator, type KplUserRecord } from '../../../src/kpl/aggregator';
import { deaggregate } from '../../../src/kpl/deaggregate';

/** The subset of the (untyped in practice) aws-kinesis-agg 4.x API used here. */
interface ReferenceUserRecord {
  partitionKey: string;
  explicitPartitionKey?: string;
  sequenceNumber: string;
  subSequenceNumber?: number;
  data: string; // base64
}
interface ReferenceEncodedRecord {
  partitionKey: string;
  ExplicitHashKey?: string;
  data: Buffer;
}
interface ReferenceRecordAggregator {
  addUserRecord(record: KplUserRecord): void;
  build(): ReferenceEncodedRecord | undefined;
}
interface ReferenceModule {
  aggregate(
    records: KplUserRecord[],
    encodedRecordHandler: (encoded: ReferenceEncodedRecord, callback: (err?: Error) => void) => void,
    afterPutAggregatedRecords: () => void,
    errorCallback: (error: Error) => void,
    queueSize?: number,
  ): void;
  deaggregateSync(
    kinesisRecord: { data: string; partitionKey: string; sequenceNumber: string },
    computeChecksums: boolean,
    afterRecordCallback: (err: Error | null | undefined, userRecords?: ReferenceUserRecord[]) => void,
  ): void;
  RecordAggregator: new () => ReferenceRecordAggregator;
}

const reference = awsKinesisAgg as unknown as ReferenceModule;

function referenceAggregate(records: KplUserRecord[]): Promise<ReferenceEncodedRecord[]> {
  return new Promise((resolve, reject) => {
    const out: ReferenceEncodedRecord[] = [];
    reference.aggregate(
      records,
      (encoded, callback) => {
        out.push(encoded);
        callback();
      },
      () => resolve(out),
      reject,
    );
  });
}

function referenceDeaggregate(data: Buffer): ReferenceUserRecord[] {
  let result: ReferenceUserRecord[] | undefined;
  let failure: Error | undefined;
  reference.deaggregateSync({ data: data.toString('base64'), partitionKey: 'outer', sequenceNumber: '1' }, true, (err, records) => {
    if (err) failure = err;
    else result = records;
  });
  if (failure) throw failure;
  if (!result) throw new Error('aws-kinesis-agg deaggregateSync returned nothing');
  return result;
}

function sampleRecords(count: number): KplUserRecord[] {
  return Array.from({ length: count }, (_, i) => {
    const partitionKey = i % 5 === 0 ? 'shared-key' : `key-${i}-${randomBytes(4).toString('hex')}`;
    const data = i % 7 === 0 ? Buffer.alloc(0) : randomBytes(1 + ((i * 31) % 400));
    // Explicit hash keys stay >= 2^32: aws-kinesis-agg builds its key tables with Object.keys(),
    // which moves integer-like keys below 2^32 - 1 to the front and so mismatches their indexes.
    const explicitHashKey = String(BigInt(i + 1) * 123456789012345678901234567n);
    return i % 3 === 0 ? { partitionKey, explicitHashKey, data } : { partitionKey, data };
  });
}

describe('interop with aws-kinesis-agg (reference implementation)', () => {
  it('our deaggregate reads aggregates written by aws-kinesis-agg', async () => {
    const records = sampleRecords(5_000);
    const encoded = await referenceAggregate(records);
    expect(encoded.length).toBeGreaterThanOrEqual(1);
    const decoded = encoded.flatMap((e) => deaggregate(e.data));
    expect(decoded).toHaveLength(records.length);
    decoded.forEach((d, i) => {
      const r = records[i]!;
      expect(d.partitionKey).toBe(r.partitionKey);
      expect(d.explicitHashKey).toBe(r.explicitHashKey);
      expect(d.data.equals(r.data)).toBe(true);
    });
  });

  it('aws-kinesis-agg reads aggregates written by KplAggregator', () => {
    const records = sampleRecords(3_000);
    const aggregator = new KplAggregator({ maxBytes: 60_000 });
    const aggregates = records.map((r) => aggregator.add(r)).filter((a) => a !== undefined);
    aggregates.push(aggregator.flush()!);
    expect(aggregates.length).toBeGreaterThan(1);
    const decoded = aggregates.flatMap((a) => referenceDeaggregate(a.data));
    expect(decoded).toHaveLength(records.length);
    decoded.forEach((d, i) => {
      const r = records[i]!;
      expect(d.partitionKey).toBe(r.partitionKey);
      // aws-kinesis-agg reports explicit_hash_key_table[0] when the index is absent (proto default 0).
      if (r.explicitHashKey !== undefined) expect(d.explicitPartitionKey).toBe(r.explicitHashKey);
      expect(d.data).toBe(r.data.toString('base64'));
    });
  });

  it('produces byte-identical aggregates to aws-kinesis-agg for the same records', () => {
    const records = [
      ...sampleRecords(500),
      { partitionKey: 'ключ', data: Buffer.from([0, 0, 1]) },
      { partitionKey: 'ключ', explicitHashKey: '340282366920938463463374607431768211455', data: Buffer.from('x') },
    ];
    const ours = new KplAggregator();
    const theirs = new reference.RecordAggregator();
    for (const r of records) {
      expect(ours.tryAdd(r)).toBe(true);
      theirs.addUserRecord({ ...r });
    }
    const expected = theirs.build();
    const actual = ours.flush();
    expect(actual?.partitionKey).toBe(expected?.partitionKey);
    expect(actual?.data.equals(expected!.data)).toBe(true);
  });

  it('agrees with aws-kinesis-agg on rejecting a corrupted digest', () => {
    const aggregator = new KplAggregator();
    aggregator.tryAdd({ partitionKey: 'k', data: Buffer.from('payload') });
    const data = aggregator.flush()!.data;
    data[data.length - 1] = data[data.length - 1]! ^ 0xff;
    expect(() => referenceDeaggregate(data)).toThrow(/checksum/);
    expect(() => deaggregate(data)).toThrow(/MD5 mismatch/);
  });
});
