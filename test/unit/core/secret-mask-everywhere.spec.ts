import 'reflect-metadata';
import { Consumer, OnRecords, Secret } from '../../../src/decorators';
import { ShardlineError } from '../../../src/core/errors';
import { MASK_ANYWHERE_MIN_LENGTH, SecretMask } from '../../../src/core/secret-mask';
import { clearSecretCache, createTestApp, secretMask } from '../../../src/testing';

const LONG = 'tok-3f9a61c2e7d4';

describe('the secret mask (issue 11, defect 8)', () => {
  it('masks a short secret only as a whole value, never inside a word or a number', () => {
    const mask = new SecretMask();
    mask.add('7');
    mask.add('on');
    expect(mask.maskText('handled 17 records')).toBe('handled 17 records');
    expect(mask.maskText('7')).toBe('****');
    expect(mask.maskText('code 7, retry 70')).toBe('code ****, retry 70');
    expect(mask.maskText('pin=7;')).toBe('pin=****;');
    expect(mask.maskText('done: the contract is on')).toBe('done: the contract is ****');
    expect(mask.maskText('on_call one on')).toBe('on_call one ****');
    expect(mask.maskText('prénom é7é')).toBe('prénom é7é');
  });

  it(`masks a secret of ${MASK_ANYWHERE_MIN_LENGTH} characters or more anywhere, even inside a word`, () => {
    const mask = new SecretMask();
    mask.add(LONG);
    mask.add('a.b*c+d(e)');
    expect(mask.maskText(`Bearer${LONG}x and ${LONG}`)).toBe('Bearer****x and ****');
    expect(mask.maskText('xa.b*c+d(e)y, axbxc')).toBe('x****y, axbxc');
  });

  describe('on errors built from a handler error', () => {
    beforeEach(() => {
      clearSecretCache();
      secretMask.clear();
      process.env.SHARDLINE_MASK_TEST = LONG;
    });
    afterAll(() => {
      delete process.env.SHARDLINE_MASK_TEST;
      clearSecretCache();
      secretMask.clear();
    });

    it('errors$, the logs and the error done rejects with never show the secret', async () => {
      @Consumer({ streamName: 's', applicationName: 'mask-app', errors: { maxRetries: 0 } })
      class Leaky {
        @Secret('env:SHARDLINE_MASK_TEST') private readonly token!: string;
        @OnRecords()
        handle(): void {
          throw new Error(`login with ${this.token} refused`);
        }
      }
      const t = await createTestApp(Leaky);
      expect((await t.push('shardId-000000000000', ['x'])).status).toBe('failed');
      const done = await t.app.done.then(
        () => new Error('expected a rejection'),
        (e: Error) => e,
      );
      await t.stop();
      const messages = [...t.errors.map((e) => e.message), done.message, ...t.logs];
      expect(messages.join('\n')).not.toContain(LONG);
      expect(t.errors[0]?.message).toMatch(/login with \*\*\*\* refused/);
      expect(done.message).toMatch(/login with \*\*\*\* refused/);
      // Any ShardlineError built with a secret in its message is masked.
      expect(new ShardlineError(`x ${LONG} y`).message).toBe('x **** y');
    });
  });
});
