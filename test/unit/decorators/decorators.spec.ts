import 'reflect-metadata';
import { container, inject, injectable } from 'tsyringe';
import { Consumer, Every, OnDeadLetter, OnInit, OnLeaseLost, OnRecords, OnShardEnded, OnShutdown, Secret } from '../../../src/decorators';
import { exploreConsumer, isConsumerClass } from '../../../src/core/consumer-explorer';
import { KinesisRecord } from '../../../src/core/kinesis-record';
import { ConfigurationError } from '../../../src/core/errors';

function rec(text: string): KinesisRecord {
  return new KinesisRecord({ data: Buffer.from(text), partitionKey: 'p', sequenceNumber: '1', shardId: 's' });
}

describe('decorators record what the runtime needs', () => {
  @Consumer({
    streamName: 'orders',
    applicationName: 'orders-app',
    checkpoint: { every: '5m' },
    errors: { maxRetries: 1, initialBackoffMs: 10, onFailure: 'dead-letter' },
    log: { level: 'debug', format: 'json' },
  })
  class Everything {
    @Secret('env:ORDERS_TOKEN') readonly token!: string;
    @Secret('kms:AQICAHh0ZXN0', { encryptionContext: { app: 'orders' } }) readonly key!: string;
    @OnRecords({ decode: 'json' }) handle(): void {}
    @Every('10s') tenSeconds(): void {}
    @Every(1500) fast(): void {}
    @OnInit() init(): void {}
    @OnShutdown() bye(): void {}
    @OnLeaseLost() lost(): void {}
    @OnShardEnded() ended(): void {}
    @OnDeadLetter() dead(): void {}
  }

  it('@Consumer normalises options with defaults', () => {
    const d = exploreConsumer(Everything);
    expect(d.name).toBe('Everything');
    expect(d.options).toMatchObject({
      streamName: 'orders',
      applicationName: 'orders-app',
      initialPosition: 'TRIM_HORIZON',
      checkpoint: { kind: 'interval', everyMs: 300_000 },
      errors: { maxRetries: 1, initialBackoffMs: 10, maxBackoffMs: 10_000, onFailure: 'dead-letter' },
      log: { level: 'debug', format: 'json' },
    });
  });

  it('@OnRecords stores the method and its decoder', () => {
    const d = exploreConsumer(Everything);
    expect(d.recordsHandler.methodKey).toBe('handle');
    expect(d.recordsHandler.decoderName).toBe('json');
    expect(d.recordsHandler.decoder?.(rec('{"a":1}'))).toEqual({ a: 1 });
  });

  it('@Every stores intervals in ms; @Secret stores refs, schemes and context; hooks are all recorded', () => {
    const d = exploreConsumer(Everything);
    expect(d.every).toEqual([
      { methodKey: 'tenSeconds', intervalMs: 10_000 },
      { methodKey: 'fast', intervalMs: 1_500 },
    ]);
    expect(d.secrets).toEqual([
      { propertyKey: 'token', scheme: 'env', ref: 'env:ORDERS_TOKEN', encryptionContext: undefined },
      { propertyKey: 'key', scheme: 'kms', ref: 'kms:AQICAHh0ZXN0', encryptionContext: { app: 'orders' } },
    ]);
    expect(d.hooks.map((h) => `${h.hook}:${h.methodKey}`).sort()).toEqual(
      ['deadLetter:dead', 'init:init', 'leaseLost:lost', 'shardEnded:ended', 'shutdown:bye'].sort(),
    );
  });

  it('@OnRecords decoders: text, buffer, a function, and none (the records themselves)', () => {
    const up = (r: KinesisRecord): string => r.text().toUpperCase();
    @Consumer({ streamName: 's' }) class TextDec { @OnRecords({ decode: 'text' }) h(): void {} }
    @Consumer({ streamName: 's' }) class BufDec { @OnRecords({ decode: 'buffer' }) h(): void {} }
    @Consumer({ streamName: 's' }) class FnDec { @OnRecords({ decode: up }) h(): void {} }
    @Consumer({ streamName: 's' }) class NoDec { @OnRecords() h(): void {} }
    expect(exploreConsumer(TextDec).recordsHandler.decoder?.(rec('abc'))).toBe('abc');
    expect(exploreConsumer(BufDec).recordsHandler.decoder?.(rec('abc'))).toEqual(Buffer.from('abc'));
    expect(exploreConsumer(FnDec).recordsHandler.decoder?.(rec('abc'))).toBe('ABC');
    expect(exploreConsumer(FnDec).recordsHandler.decoderName).toBe('up');
    expect(exploreConsumer(NoDec).recordsHandler.decoder).toBeUndefined();
    expect(exploreConsumer(NoDec).options.applicationName).toBe('NoDec'); // default: the class name
  });

  it('@Consumer makes the class injectable: constructor parameters are resolved by tsyringe', () => {
    @injectable() class Dep { readonly id = 42; }
    const TOKEN = Symbol('token');
    @Consumer({ streamName: 's', applicationName: 'inject-app' })
    class WithDeps {
      constructor(readonly dep: Dep, @inject(TOKEN) readonly value: string) {}
      @OnRecords() h(): void {}
    }
    const child = container.createChildContainer();
    child.register(TOKEN, { useValue: 'hello' });
    const instance = child.resolve(WithDeps);
    expect(instance.dep.id).toBe(42);
    expect(instance.value).toBe('hello');
    expect(isConsumerClass(WithDeps)).toBe(true);
    expect(isConsumerClass(Dep)).toBe(false);
  });

  it('exploreConsumer refuses a class that is not a consumer with a ConfigurationError', () => {
    class Plain {}
    expect(() => exploreConsumer(Plain)).toThrow(ConfigurationError);
    expect(() => exploreConsumer(Plain)).toThrow(/Plain is not a consumer: decorate it with @Consumer/);
  });
});

describe('metadata inheritance', () => {
  class Base {
    @OnRecords() handle(): void {}
    @Every('1m') refresh(): void {}
    @OnInit() init(): void {}
    @Secret('env:BASE_SECRET') readonly base!: string;
  }

  @Consumer({ streamName: 'base-stream', applicationName: 'base-app' })
  class BaseConsumer extends Base {}

  @Consumer({ streamName: 'child-stream', applicationName: 'child-app' })
  class ChildConsumer extends Base {
    @Every('5s') extra(): void {}
    @OnShutdown() bye(): void {}
    @Secret('env:CHILD_SECRET') readonly child!: string;
  }

  @Consumer({ streamName: 'override', applicationName: 'override-app' })
  class OverrideConsumer extends Base {
    @OnRecords({ decode: 'text' }) override handle(): void {}
    @Every('2s') override refresh(): void {}
  }

  it('a subclass inherits its parent metadata and adds its own', () => {
    const d = exploreConsumer(ChildConsumer);
    expect(d.recordsHandler.methodKey).toBe('handle');
    expect(d.every.map((e) => e.methodKey)).toEqual(['refresh', 'extra']);
    expect(d.secrets.map((s) => s.propertyKey)).toEqual(['base', 'child']);
    expect(d.hooks.map((h) => h.hook)).toEqual(['init', 'shutdown']);
    expect(d.options.streamName).toBe('child-stream');
  });

  it("a subclass does not mutate its parent's metadata", () => {
    const d = exploreConsumer(BaseConsumer);
    expect(d.every).toEqual([{ methodKey: 'refresh', intervalMs: 60_000 }]);
    expect(d.secrets.map((s) => s.propertyKey)).toEqual(['base']);
    expect(d.hooks.map((h) => h.hook)).toEqual(['init']);
    expect(d.options.streamName).toBe('base-stream');
    expect(d.recordsHandler.decoderName).toBe('records');
  });

  it("a subclass re-decorating a method replaces the parent's entry instead of adding a second one", () => {
    const d = exploreConsumer(OverrideConsumer);
    expect(d.recordsHandler.decoderName).toBe('text');
    expect(d.every).toEqual([{ methodKey: 'refresh', intervalMs: 2_000 }]);
    expect(exploreConsumer(BaseConsumer).every).toEqual([{ methodKey: 'refresh', intervalMs: 60_000 }]);
  });

  it('a subclass of a consumer that is not decorated itself is not a consumer', () => {
    class Undecorated extends BaseConsumer {}
    expect(isConsumerClass(Undecorated)).toBe(false);
  });
});
