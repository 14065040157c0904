import { UsageError } from 'shardline';
import { parseAdapterOptions } from '../src';

describe('parseAdapterOptions (--adapter-option of the DynamoDB Streams adapter)', () => {
  it('reads every option it knows', () => {
    expect(parseAdapterOptions({ table: 'Flights', from: 'latest', 'idle-poll-ms': '250', 'max-records': '100' })).toEqual({
      table: 'Flights',
      from: 'LATEST',
      idlePollIntervalMs: 250,
      maxRecordsPerCall: 100,
    });
    const arn = 'arn:aws:dynamodb:us-east-1:123456789012:table/Flights/stream/2026-01-01T00:00:00.000';
    expect(parseAdapterOptions({ 'stream-arn': arn })).toEqual({ streamArn: arn });
    expect(parseAdapterOptions({})).toEqual({});
  });

  it.each([
    [{ colour: 'red' }, /colour is not an option .* \(it takes table, stream-arn, from, idle-poll-ms, max-records\)/],
    [{ table: 'Flights', 'stream-arn': 'arn:aws:dynamodb:r:a:table/T/stream/L' }, /exclude each other/],
    [{ table: 'x' }, /3-255 letters/],
    [{ 'stream-arn': 'arn:aws:kinesis:us-east-1:1:stream/s' }, /is not a DynamoDB stream ARN/],
    [{ from: 'AT_TIMESTAMP' }, /TRIM_HORIZON or LATEST/],
    [{ 'max-records': '1001' }, /max-records=1001: expected an integer from 1 to 1000/],
    [{ 'idle-poll-ms': '-5' }, /idle-poll-ms=-5/],
  ])('refuses %j with a UsageError', (raw, message) => {
    expect(() => parseAdapterOptions(raw)).toThrow(UsageError);
    expect(() => parseAdapterOptions(raw)).toThrow(message);
  });
});
