import { inject } from 'tsyringe';
import { Consumer, ConfigurationError, OnRecords, ShardContext } from 'shardline';
import { exploreConsumer } from '../../../src/core/consumer-explorer';
import { createTestApp } from 'shardline/testing';

/* A class whose constructor was compiled without decorator metadata: no class decorator in the source, so neither
   tsc nor swc records design:paramtypes; @Consumer is applied afterwards as a plain call, as a transpiler without
   metadata leaves it. */
class WithoutMetadata {
  constructor(private readonly shard: ShardContext) {}

  @OnRecords()
  handle(): void {
    this.shard.logger.info('never');
  }
}
Consumer({ streamName: 's' })(WithoutMetadata);

interface Store {
  add(n: number): void;
}

@Consumer({ streamName: 's' })
class InterfaceParameter {
  constructor(
    private readonly shard: ShardContext,
    private readonly store: Store,
  ) {}

  @OnRecords()
  handle(): void {
    this.store.add(1);
    this.shard.logger.info('never');
  }
}

const STORE = Symbol('Store');

@Consumer({ streamName: 's' })
class InjectedInterface {
  constructor(
    private readonly shard: ShardContext,
    @inject(STORE) private readonly store: Store,
  ) {}

  @OnRecords()
  handle(records: unknown[]): void {
    this.store.add(records.length);
    this.shard.logger.info('handled');
  }
}

describe('constructor injection check', () => {
  it('fails at start with the class, the parameter and the fix when the constructor has no type metadata', async () => {
    expect(() => exploreConsumer(WithoutMetadata)).toThrow(ConfigurationError);
    expect(() => exploreConsumer(WithoutMetadata)).toThrow(
      /^WithoutMetadata: constructor parameter #0 has no type metadata, so it cannot be injected: compile with "experimentalDecorators" and "emitDecoratorMetadata"/,
    );
    await expect(createTestApp(WithoutMetadata)).rejects.toThrow(/WithoutMetadata: constructor parameter #0 has no type metadata/);
  });

  it('names an interface-typed parameter without @inject', () => {
    expect(() => exploreConsumer(InterfaceParameter)).toThrow(
      'InterfaceParameter: constructor parameter #1 is typed as an interface, a union or a primitive (Object at run time), so it cannot be injected: give it @inject(TOKEN)',
    );
  });

  it('accepts class-typed parameters and @inject tokens, and the service is really injected', async () => {
    const store = { add: jest.fn() };
    const t = await createTestApp(InjectedInterface, { providers: [{ provide: STORE, useValue: store }] });
    await t.push('shardId-000000000000', ['a', 'b']);
    expect(store.add).toHaveBeenCalledWith(2);
    await t.stop();
  });
});
