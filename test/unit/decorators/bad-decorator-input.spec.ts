import 'reflect-metadata';
import { Consumer, Every, OnDeadLetter, OnInit, OnLeaseLost, OnRecords, OnShardEnded, OnShutdown, Secret } from '../../../src/decorators';
import { InvalidDecoratorError } from '../../../src/core/errors';

/* Every bad argument throws InvalidDecoratorError when the class is defined, naming Class.member (or the class). */

type Loose = never;

function defineThrows(define: () => unknown, pattern: RegExp): void {
  let thrown: unknown;
  try {
    define();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(InvalidDecoratorError);
  expect((thrown as Error).message).toMatch(pattern);
}

describe('@Every with bad durations', () => {
  it.each([['0ms'], ['-1s'], ['10 minutes'], ['abc'], [''], [0], [-10], [Number.NaN]])('rejects %p naming Class.member', (interval) => {
    defineThrows(() => {
      class Timed {
        @Every(interval as Loose) tick(): void {}
      }
      return Timed;
    }, /^@Every on Timed\.tick: invalid duration/);
  });
});

describe('@Consumer options', () => {
  const cases: Array<[string, unknown, RegExp]> = [
    ['no options object', undefined, /expected an options object/],
    ['no streamName', {}, /streamName must be a non-empty string/],
    ['an empty streamName', { streamName: ' ' }, /streamName must be a non-empty string/],
    ['an unknown option', { streamName: 's', batchSize: 10 }, /unknown option "batchSize"/],
    ['a bad applicationName', { streamName: 's', applicationName: 'has space' }, /applicationName "has space" must be 3-255 characters/],
    ['a bad region', { streamName: 's', region: '' }, /region must be a non-empty string/],
    ['a bad initialPosition', { streamName: 's', initialPosition: 'OLDEST' }, /initialPosition must be 'TRIM_HORIZON', 'LATEST'/],
    ['a bad checkpoint string', { streamName: 's', checkpoint: 'always' }, /checkpoint must be 'batch', 'manual', 'never'/],
    ['checkpoint.everyRecords 0', { streamName: 's', checkpoint: { everyRecords: 0 } }, /checkpoint.everyRecords must be a positive integer, got 0/],
    ['checkpoint.everyRecords 1.5', { streamName: 's', checkpoint: { everyRecords: 1.5 } }, /checkpoint.everyRecords must be a positive integer/],
    ['a bad checkpoint duration', { streamName: 's', checkpoint: { every: 'soon' } }, /checkpoint: invalid duration "soon"/],
    ['a bad checkpoint everyMs', { streamName: 's', checkpoint: { everyMs: -1 } }, /checkpoint: invalid duration -1/],
    ['two checkpoint keys', { streamName: 's', checkpoint: { everyRecords: 10, everyMs: 10 } }, /checkpoint must be/],
    ['errors not an object', { streamName: 's', errors: 'retry' }, /errors must be an object/],
    ['an unknown errors option', { streamName: 's', errors: { retries: 3 } }, /errors: unknown option "retries"/],
    ['negative maxRetries', { streamName: 's', errors: { maxRetries: -1 } }, /errors.maxRetries must be an integer >= 0, got -1/],
    ['a bad onFailure', { streamName: 's', errors: { onFailure: 'ignore' } }, /errors.onFailure must be 'stop', 'skip' or 'dead-letter'/],
    ['maxBackoffMs below initialBackoffMs', { streamName: 's', errors: { initialBackoffMs: 500, maxBackoffMs: 100 } }, /maxBackoffMs must be >= errors.initialBackoffMs/],
    ['log not an object', { streamName: 's', log: 'debug' }, /log must be an object/],
    ['an unknown log option', { streamName: 's', log: { colour: true } }, /log: unknown option "colour"/],
    ['a bad log level', { streamName: 's', log: { level: 'verbose' } }, /log.level must be one of error, warn, info, debug, trace/],
    ['a bad log format', { streamName: 's', log: { format: 'xml' } }, /log.format must be 'text' or 'json'/],
    ['a bad log file', { streamName: 's', log: { file: '' } }, /log.file must be a non-empty path/],
    ['a bad log destination', { streamName: 's', log: { destination: 'syslog' } }, /log.destination must be 'stderr', 'stdout' or 'none'/],
  ];
  it.each(cases)('rejects %s, naming the class', (_name, options, pattern) => {
    defineThrows(() => {
      @Consumer(options as Loose)
      class BadOptions {
        @OnRecords() handle(): void {}
      }
      return BadOptions;
    }, new RegExp(`^@Consumer on BadOptions: .*${pattern.source}`));
  });

  it('reports every problem in one error', () => {
    defineThrows(() => {
      @Consumer({ streamName: '', checkpoint: { everyRecords: -1 }, log: { level: 'loud' } } as Loose)
      class ManyProblems {
        @OnRecords() handle(): void {}
      }
      return ManyProblems;
    }, /streamName must be.*; checkpoint.everyRecords.*; log.level/);
  });
});

describe('@Consumer structure', () => {
  it('refuses a class with no @OnRecords', () => {
    defineThrows(() => {
      @Consumer({ streamName: 's' })
      class NoHandler {
        handle(): void {}
      }
      return NoHandler;
    }, /^@Consumer on NoHandler: it has no @OnRecords method/);
  });

  it('refuses a class with two @OnRecords', () => {
    defineThrows(() => {
      @Consumer({ streamName: 's' })
      class TwoHandlers {
        @OnRecords() first(): void {}
        @OnRecords() second(): void {}
      }
      return TwoHandlers;
    }, /^@Consumer on TwoHandlers: it has 2 @OnRecords methods \(first, second\): keep exactly one/);
  });

  it("refuses onFailure 'dead-letter' without an @OnDeadLetter method", () => {
    defineThrows(() => {
      @Consumer({ streamName: 's', errors: { onFailure: 'dead-letter' } })
      class NoDeadLetter {
        @OnRecords() handle(): void {}
      }
      return NoDeadLetter;
    }, /^@Consumer on NoDeadLetter: errors.onFailure is 'dead-letter' but no method has @OnDeadLetter/);
  });

  it('refuses two @OnInit or two @OnDeadLetter methods', () => {
    defineThrows(() => {
      @Consumer({ streamName: 's' })
      class TwoInits {
        @OnRecords() handle(): void {}
        @OnInit() a(): void {}
        @OnInit() b(): void {}
      }
      return TwoInits;
    }, /more than one @OnInit method/);
    defineThrows(() => {
      @Consumer({ streamName: 's', errors: { onFailure: 'dead-letter' } })
      class TwoDeadLetters {
        @OnRecords() handle(): void {}
        @OnDeadLetter() a(): void {}
        @OnDeadLetter() b(): void {}
      }
      return TwoDeadLetters;
    }, /more than one @OnDeadLetter method/);
  });
});

describe('@OnRecords options', () => {
  it.each([
    ['an unknown option', { batchSize: 10 }, /unknown option "batchSize" \(known: decode\)/],
    ['a bad decoder name', { decode: 'xml' }, /decode must be 'json', 'text', 'buffer' or a function, got "xml"/],
    ['options that are not an object', null, /options must be an object/],
  ])('rejects %s, naming Class.member', (_name, options, pattern) => {
    defineThrows(() => {
      class BadRecords {
        @OnRecords(options as Loose) handle(): void {}
      }
      return BadRecords;
    }, new RegExp(`^@OnRecords on BadRecords\\.handle: ${pattern.source}`));
  });
});

describe('@Secret references', () => {
  it.each([
    ['an unknown scheme', 'vault:secret/x', /unknown scheme "vault"; use 'env:NAME', 'kms:<base64 ciphertext>' or 'kms-file:<path>'/],
    ['no scheme', 'PASSWORD', /unknown scheme/],
    ['an empty body', 'env:', /'env:' needs a value after the colon/],
    ['a bad env name', 'env:1-BAD', /"1-BAD" is not an environment variable name/],
    ['bad base64 ciphertext', 'kms:not base64!', /the text after 'kms:' must be base64 ciphertext/],
    ['a non-string reference', 42, /the reference must be a string/],
  ])('rejects %s, naming Class.property', (_name, ref, pattern) => {
    defineThrows(() => {
      class BadSecret {
        @Secret(ref as Loose) readonly password!: string;
      }
      return BadSecret;
    }, new RegExp(`^@Secret on BadSecret\\.password: ${pattern.source}`));
  });

  it('rejects an encryptionContext on env secrets and non-string context values', () => {
    defineThrows(() => {
      class EnvContext {
        @Secret('env:TOKEN', { encryptionContext: { a: 'b' } }) readonly token!: string;
      }
      return EnvContext;
    }, /^@Secret on EnvContext\.token: encryptionContext applies to 'kms:' and 'kms-file:' secrets only/);
    defineThrows(() => {
      class BadContext {
        @Secret('kms:AQID', { encryptionContext: { a: 1 } as Loose }) readonly token!: string;
      }
      return BadContext;
    }, /^@Secret on BadContext\.token: encryptionContext\.a must be a string/);
  });

  it('rejects a static property', () => {
    defineThrows(() => {
      class StaticSecret {
        @Secret('env:TOKEN') static token: string;
      }
      return StaticSecret;
    }, /^@Secret on StaticSecret\.token: decorate an instance property, not a static one/);
  });

  it('rejects a method (a secret is a value, not a function)', () => {
    defineThrows(() => {
      class SecretMethod {
        // A property decorator on a method type-checks (legacy decorators); the decorator must refuse it at run time.
        @Secret('env:TOKEN') token(): string {
          return '';
        }
      }
      return SecretMethod;
    }, /^@Secret on SecretMethod\.token: decorate a property/);
  });
});

describe('method decorators on static members or non-methods', () => {
  const decorators: Array<[string, () => MethodDecorator]> = [
    ['OnRecords', () => OnRecords()],
    ['Every', () => Every('1s')],
    ['OnInit', () => OnInit()],
    ['OnShutdown', () => OnShutdown()],
    ['OnLeaseLost', () => OnLeaseLost()],
    ['OnShardEnded', () => OnShardEnded()],
    ['OnDeadLetter', () => OnDeadLetter()],
  ];

  it.each(decorators)('@%s on a static method is refused', (name, make) => {
    defineThrows(() => {
      class StaticHost {
        static run(): void {}
      }
      const descriptor = Object.getOwnPropertyDescriptor(StaticHost, 'run');
      make()(StaticHost, 'run', descriptor as TypedPropertyDescriptor<unknown>);
      return StaticHost;
    }, new RegExp(`^@${name} on StaticHost\\.run: decorate an instance method, not a static one`));
  });

  it.each(decorators)('@%s on a property is refused', (name, make) => {
    defineThrows(() => {
      class PropertyHost {
        value = 1;
      }
      (make() as unknown as PropertyDecorator)(PropertyHost.prototype, 'value');
      return PropertyHost;
    }, new RegExp(`^@${name} on PropertyHost\\.value: it decorates methods only`));
  });

  it('@OnInit written as a static method decorator in source is refused too', () => {
    defineThrows(() => {
      class StaticInit {
        @OnInit() static init(): void {}
      }
      return StaticInit;
    }, /^@OnInit on StaticInit\.init: decorate an instance method/);
  });

  it('a symbol-named method is refused with a clear message', () => {
    const key = Symbol('run');
    defineThrows(() => {
      class SymbolHost {
        @OnInit() [key](): void {}
      }
      return SymbolHost;
    }, /^@OnInit on SymbolHost\.Symbol\(run\): use a method with a string name/);
  });
});
