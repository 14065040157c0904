import { ExpiredIteratorException, ProvisionedThroughputExceededException, ResourceNotFoundException } from '@aws-sdk/client-kinesis';
import { classifyKinesisError } from '../../../src/adapters/polling/kinesis-error-kind';
import { parseInitialPosition } from '../../../src/adapters/polling/parse-initial-position';
import { parentsDone, startsAtTrimHorizon } from '../../../src/adapters/polling/shard-lineage';
import { parseCheckpointStoreSpec } from '../../../src/checkpoint-stores/create-checkpoint-store';
import { ConfigurationError } from '../../../src/core/errors';

const meta = { $metadata: {} };

describe('classifyKinesisError', () => {
  it.each([
    [new ProvisionedThroughputExceededException({ message: 'x', ...meta }), 'throttled'],
    [Object.assign(new Error('limit'), { name: 'LimitExceededException' }), 'throttled'],
    [Object.assign(new Error('kms'), { name: 'KMSThrottlingException' }), 'throttled'],
    [Object.assign(new Error('boom'), { name: 'InternalFailure', $metadata: { httpStatusCode: 500 } }), 'throttled'],
    [Object.assign(new Error('x'), { name: 'Whatever', $metadata: { httpStatusCode: 503 } }), 'throttled'],
    [new ExpiredIteratorException({ message: 'x', ...meta }), 'expired-iterator'],
    [new ResourceNotFoundException({ message: 'x', ...meta }), 'not-found'],
    [Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), 'network'],
    [Object.assign(new Error('timed out'), { name: 'TimeoutError' }), 'network'],
    [Object.assign(new Error('aborted'), { name: 'AbortError' }), 'aborted'],
    [Object.assign(new Error('no'), { name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } }), 'fatal'],
    ['a string', 'fatal'],
  ])('%s → %s', (error, kind) => {
    expect(classifyKinesisError(error)).toBe(kind);
  });
});

describe('shard lineage', () => {
  const child = { shardId: 'c', parentShardIds: ['p1', 'p2'] };
  it('holds a child back until every listed parent is finished', () => {
    expect(parentsDone(child, new Set(['p1']), new Set(['p1', 'p2', 'c']))).toBe(false);
    expect(parentsDone(child, new Set(['p1', 'p2']), new Set(['p1', 'p2', 'c']))).toBe(true);
  });
  it('does not wait for parents that are no longer listed (expired)', () => {
    expect(parentsDone(child, new Set(['p1']), new Set(['p1', 'c']))).toBe(true);
    expect(parentsDone({ shardId: 'root', parentShardIds: [] }, new Set(), new Set(['root']))).toBe(true);
  });
  it('starts children of known parents and shards found later at TRIM_HORIZON', () => {
    expect(startsAtTrimHorizon(child, new Set(['p1']), false)).toBe(true);
    expect(startsAtTrimHorizon({ shardId: 'x', parentShardIds: ['gone'] }, new Set(), false)).toBe(false);
    expect(startsAtTrimHorizon({ shardId: 'x', parentShardIds: [] }, new Set(), true)).toBe(true);
  });
});

describe('parseInitialPosition', () => {
  it('accepts trim-horizon, latest and ISO times', () => {
    expect(parseInitialPosition('trim-horizon')).toBe('TRIM_HORIZON');
    expect(parseInitialPosition('LATEST')).toBe('LATEST');
    expect(parseInitialPosition('2026-01-31T12:00:00Z')).toEqual({ atTimestamp: new Date('2026-01-31T12:00:00Z') });
  });
  it('rejects anything else with the accepted forms', () => {
    expect(() => parseInitialPosition('yesterday')).toThrow(ConfigurationError);
    expect(() => parseInitialPosition('2026-13-45')).toThrow(/trim-horizon, latest or an ISO time/);
  });
});

describe('parseCheckpointStoreSpec', () => {
  it('parses file:PATH and dynamodb:TABLE, defaulting to the file store', () => {
    expect(parseCheckpointStoreSpec(undefined)).toEqual({ kind: 'file', directory: '.shardline/checkpoints' });
    expect(parseCheckpointStoreSpec('file:/tmp/cp')).toEqual({ kind: 'file', directory: '/tmp/cp' });
    expect(parseCheckpointStoreSpec('dynamodb:my-app')).toEqual({ kind: 'dynamodb', tableName: 'my-app' });
    expect(parseCheckpointStoreSpec('dynamodb:')).toEqual({ kind: 'dynamodb', tableName: undefined });
  });
  it('rejects unknown forms', () => {
    expect(() => parseCheckpointStoreSpec('redis:x')).toThrow(/file:PATH .* dynamodb:TABLE/);
    expect(() => parseCheckpointStoreSpec('file:')).toThrow(ConfigurationError);
    expect(() => parseCheckpointStoreSpec('dynamodb:a b')).toThrow(ConfigurationError);
  });
});
