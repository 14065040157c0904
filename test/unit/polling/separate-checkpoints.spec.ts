import { assertSeparateCheckpoints, createCheckpointStore, parseCheckpointStoreSpec } from '../../../src/checkpoint-stores/create-checkpoint-store';
import { ConfigurationError } from '../../../src/core/errors';

const orders = { consumerName: 'OrderConsumer', applicationName: 'orders-app', streamName: 'events' };
const audit = { consumerName: 'AuditConsumer', applicationName: 'audit-app', streamName: 'events' };

describe('one checkpoint place per consumer (--checkpoints)', () => {
  it('refuses dynamodb:TABLE for several consumers of a module, saying what to write', () => {
    expect(() => assertSeparateCheckpoints(parseCheckpointStoreSpec('dynamodb:leases'), [orders, audit])).toThrow(ConfigurationError);
    expect(() => assertSeparateCheckpoints(parseCheckpointStoreSpec('dynamodb:leases'), [orders, audit])).toThrow(
      /share one lease table between OrderConsumer, AuditConsumer.*--checkpoints dynamodb: \(one table per consumer.*dynamodb:PREFIX-\{app\}/,
    );
  });

  it('accepts dynamodb: (a table per applicationName) and a {app} template, and names the tables after each application', () => {
    expect(() => assertSeparateCheckpoints(parseCheckpointStoreSpec('dynamodb:'), [orders, audit])).not.toThrow();
    const spec = parseCheckpointStoreSpec('dynamodb:leases-{app}');
    expect(() => assertSeparateCheckpoints(spec, [orders, audit])).not.toThrow();
    expect(createCheckpointStore(spec, { applicationName: 'orders-app', streamName: 'events', dynamoDbEndpoint: 'http://127.0.0.1:1' }).description).toBe('dynamodb:leases-orders-app');
    expect(createCheckpointStore(parseCheckpointStoreSpec('dynamodb:'), { applicationName: 'audit-app', streamName: 'events', dynamoDbEndpoint: 'http://127.0.0.1:1' }).description).toBe(
      'dynamodb:audit-app',
    );
    expect(() => assertSeparateCheckpoints(parseCheckpointStoreSpec('dynamodb:leases'), [orders])).not.toThrow();
  });

  it('refuses two consumers with one applicationName (same file, or same lease table), for any store', () => {
    const twin = { ...audit, applicationName: 'orders-app' };
    expect(() => assertSeparateCheckpoints(parseCheckpointStoreSpec('file:/tmp/cp'), [orders, twin])).toThrow(/same applicationName \(orders-app\) and stream/);
    expect(() => assertSeparateCheckpoints(parseCheckpointStoreSpec('dynamodb:'), [orders, { ...twin, streamName: 'other' }])).toThrow(/same applicationName/);
    // Files are per application and stream: one application on two streams is fine there.
    expect(() => assertSeparateCheckpoints(parseCheckpointStoreSpec('file:/tmp/cp'), [orders, { ...twin, streamName: 'other' }])).not.toThrow();
    expect(() => assertSeparateCheckpoints(parseCheckpointStoreSpec(undefined), [orders, audit])).not.toThrow();
  });
});
