import { base64Problem, encodeCheckpoint, encodeStatus, parseKclLine } from '../../../src/adapters/kcl/kcl-protocol';
import { ProtocolError } from '../../../src/core/errors';

const SEQ = '49590338271490256608559692538361571095921575989136588898';

describe('parseKclLine', () => {
  it('reads initialize, keeping the sequence number a string', () => {
    expect(parseKclLine(`{"action":"initialize","shardId":"shardId-000000000000","sequenceNumber":"${SEQ}","subSequenceNumber":0}`)).toEqual({
      action: 'initialize',
      shardId: 'shardId-000000000000',
      sequenceNumber: SEQ,
      subSequenceNumber: 0,
    });
  });

  it('reads initialize with null checkpoint fields', () => {
    expect(parseKclLine('{"action":"initialize","shardId":"s","sequenceNumber":null,"subSequenceNumber":null}')).toMatchObject({ sequenceNumber: null, subSequenceNumber: null });
  });

  it('reads processRecords with records whose action key comes last, keeping data as base64 text', () => {
    const line = `{"action":"processRecords","records":[{"data":"eyJpZCI6MX0=","partitionKey":"user-17","sequenceNumber":"${SEQ}","approximateArrivalTimestamp":1717171717123,"subSequenceNumber":3,"action":"record"}],"millisBehindLatest":12}`;
    const message = parseKclLine(line);
    expect(message).toEqual({
      action: 'processRecords',
      millisBehindLatest: 12,
      records: [{ data: 'eyJpZCI6MX0=', partitionKey: 'user-17', sequenceNumber: SEQ, approximateArrivalTimestamp: 1717171717123, subSequenceNumber: 3, action: 'record' }],
    });
  });

  it('reads an empty processRecords and a null millisBehindLatest', () => {
    expect(parseKclLine('{"action":"processRecords","records":[],"millisBehindLatest":null}')).toEqual({ action: 'processRecords', records: [], millisBehindLatest: null });
  });

  it.each(['leaseLost', 'shardEnded', 'shutdownRequested'])('reads %s', (action) => {
    expect(parseKclLine(`{"action":"${action}"}`)).toEqual({ action });
  });

  it.each(['TERMINATE', 'ZOMBIE'])('reads the v1 shutdown with reason %s', (reason) => {
    expect(parseKclLine(`{"action":"shutdown","reason":"${reason}"}`)).toEqual({ action: 'shutdown', reason });
  });

  it('reads checkpoint replies, with and without an error', () => {
    expect(parseKclLine(`{"action":"checkpoint","sequenceNumber":"${SEQ}","subSequenceNumber":2,"error":null}`)).toEqual({
      action: 'checkpoint', sequenceNumber: SEQ, subSequenceNumber: 2, error: null,
    });
    expect(parseKclLine('{"action":"checkpoint","sequenceNumber":null,"subSequenceNumber":null,"error":"ThrottlingException"}')).toMatchObject({ error: 'ThrottlingException' });
  });

  it.each([
    ['not JSON', 'hello world', /not JSON/],
    ['a JSON array', '[1,2]', /not a JSON object/],
    ['no action', '{"shardId":"x"}', /without an action/],
    ['an unknown action', '{"action":"rebalance"}', /unknown action "rebalance"/],
    ['a wrongly cased action', '{"action":"ProcessRecords","records":[]}', /unknown action "ProcessRecords"/],
    ['processRecords without records', '{"action":"processRecords"}', /without a records array/],
    ['a record without sequence number', '{"action":"processRecords","records":[{"data":"","partitionKey":"p"}]}', /record #0 has no sequenceNumber/],
    ['a record with numeric data', `{"action":"processRecords","records":[{"data":5,"partitionKey":"p","sequenceNumber":"${SEQ}"}]}`, /data that is not a base64 string/],
    ['a v1 shutdown with an unknown reason', '{"action":"shutdown","reason":"LATER"}', /reason "LATER"/],
    ['initialize without shardId', '{"action":"initialize","sequenceNumber":"TRIM_HORIZON"}', /without a shardId/],
  ])('rejects %s with a ProtocolError naming the problem', (_name, line, pattern) => {
    let caught: unknown;
    try {
      parseKclLine(line);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ProtocolError);
    expect((caught as Error).message).toMatch(pattern);
    expect((caught as Error).message).toMatch(/the KCL daemon sent/);
  });

  it('shows only the start of a long bad line', () => {
    const line = `{"action":"nope","pad":"${'x'.repeat(1_000_000)}"}`;
    expect(() => parseKclLine(line)).toThrow(/\(1000026 characters\)/);
    try {
      parseKclLine(line);
    } catch (error) {
      expect((error as Error).message.length).toBeLessThan(600);
    }
  });
});

describe('encoders', () => {
  it('writes a status with exactly action and responseFor', () => {
    for (const action of ['initialize', 'processRecords', 'leaseLost', 'shardEnded', 'shutdownRequested', 'shutdown'] as const) {
      const line = encodeStatus(action);
      expect(line.endsWith('\n')).toBe(true);
      expect(line.indexOf('\n')).toBe(line.length - 1);
      expect(JSON.parse(line)).toEqual({ action: 'status', responseFor: action });
      expect(Object.keys(JSON.parse(line) as object)).toEqual(['action', 'responseFor']);
    }
  });

  it('writes a checkpoint with the sequence number as a string and the sub-sequence number', () => {
    const line = encodeCheckpoint({ sequenceNumber: SEQ, subSequenceNumber: 4 });
    expect(line).toBe(`{"action":"checkpoint","sequenceNumber":"${SEQ}","subSequenceNumber":4}\n`);
    expect(Object.keys(JSON.parse(line) as object)).toEqual(['action', 'sequenceNumber', 'subSequenceNumber']);
  });

  it('writes the SHARD_END checkpoint with null fields', () => {
    expect(encodeCheckpoint(null)).toBe('{"action":"checkpoint","sequenceNumber":null,"subSequenceNumber":null}\n');
  });
});

describe('base64Problem', () => {
  it('accepts the URL-safe alphabet, which decodes to the same bytes', () => {
    expect(base64Problem('ab-_')).toBeUndefined();
  });

  it('accepts standard base64, padded or empty, short or long', () => {
    expect(base64Problem(Buffer.alloc(300_000, 1).toString('base64'))).toBeUndefined();
    for (const text of ['', 'eyJpZCI6MX0=', 'YQ==', 'YWJj', Buffer.from([251, 255, 191]).toString('base64')]) expect(base64Problem(text)).toBeUndefined();
  });

  it('names a bad length and bad characters', () => {
    expect(base64Problem('abcde')).toMatch(/length 5 is not a multiple of 4/);
    expect(base64Problem('ab!d')).toMatch(/outside the base64 alphabet/);
    expect(base64Problem('a=bc')).toMatch(/outside the base64 alphabet/);
    expect(base64Problem('YQ=a')).toMatch(/outside the base64 alphabet/);
    expect(base64Problem('Y Q=')).toMatch(/outside the base64 alphabet/);
    expect(base64Problem(`${'QUJD'.repeat(30_000)}!QUJ`)).toMatch(/outside the base64 alphabet/);
  });
});
