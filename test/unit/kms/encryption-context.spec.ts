import { assertContextMatches, parseContextPairs } from '../../../src/kms/encryption-context';
import { KmsError } from 'shardline';

describe('encryption context helpers', () => {
  it('parses key=value pairs, keeping = in values', () => {
    expect(parseContextPairs(['app=flights', 'url=a=b'])).toEqual({ app: 'flights', url: 'a=b' });
    expect(parseContextPairs([])).toBeUndefined();
  });

  it('refuses a pair without a key', () => {
    expect(() => parseContextPairs(['=x'])).toThrow(/key=value/);
    expect(() => parseContextPairs(['a=1', 'a=2'])).toThrow(/twice/);
  });

  it('accepts a message whose context contains every expected pair', () => {
    expect(() => assertContextMatches({ app: 'a' }, { app: 'a', env: 'prod', 'aws-crypto-public-key': 'k' })).not.toThrow();
    expect(() => assertContextMatches(undefined, { app: 'a' })).not.toThrow();
  });

  it('names the pairs that differ and what the message has, hiding the SDK keys', () => {
    let error: unknown;
    try {
      assertContextMatches({ app: 'b' }, { app: 'a', 'aws-crypto-public-key': 'k' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(KmsError);
    expect((error as KmsError).message).toBe(
      'the encryption context does not match: expected {app=b}, the message was encrypted with {app=a}; pass the context the data was encrypted with',
    );
  });
});
