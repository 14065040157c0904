import { withKmsRetry } from '../../../src/kms/kms-retry';
import { isRetryableKmsError, toKmsError } from '../../../src/kms/kms-error-mapping';

const throttled = (): Error => Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });

describe('withKmsRetry', () => {
  it('waits with capped exponential backoff between attempts', async () => {
    const delays: number[] = [];
    let calls = 0;
    const random = jest.spyOn(Math, 'random').mockReturnValue(1);
    try {
      const result = await withKmsRetry(
        () => {
          calls++;
          return calls < 5 ? Promise.reject(throttled()) : Promise.resolve('done');
        },
        { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 500, sleep: (ms) => (delays.push(ms), Promise.resolve()) },
      );
      expect(result).toBe('done');
    } finally {
      random.mockRestore();
    }
    expect(delays).toEqual([100, 200, 400, 500]);
  });

  it('does not retry errors that retrying cannot fix', async () => {
    const sleep = jest.fn(() => Promise.resolve());
    const fn = jest.fn(() => Promise.reject(Object.assign(new Error('bad'), { name: 'InvalidCiphertextException' })));
    await expect(withKmsRetry(fn, { maxAttempts: 5, baseDelayMs: 1, maxDelayMs: 1, sleep })).rejects.toThrow('bad');
    expect(fn).toHaveBeenCalledTimes(1);
    expect(sleep).not.toHaveBeenCalled();
  });
});

describe('KMS error classification', () => {
  it.each([
    [throttled(), true],
    [Object.assign(new Error('x'), { name: 'KMSInternalException' }), true],
    [Object.assign(new Error('x'), { name: 'DependencyTimeoutException' }), true],
    [Object.assign(new Error('x'), { name: 'SomeServerError', $metadata: { httpStatusCode: 503 } }), true],
    [Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), true],
    [Object.assign(new Error('x'), { name: 'NotFoundException', $metadata: { httpStatusCode: 400 } }), false],
    [Object.assign(new Error('x'), { name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } }), false],
    [new Error('plain'), false],
  ])('%s retryable: %s', (error, expected) => {
    expect(isRetryableKmsError(error)).toBe(expected);
  });

  it('says how to fix a missing region and missing credentials', () => {
    expect(toKmsError(new Error('Region is missing'), { operation: 'Decrypt' }).message).toMatch(/set AWS_REGION/);
    expect(toKmsError(Object.assign(new Error('Could not load credentials'), { name: 'CredentialsProviderError' }), { operation: 'Decrypt' }).message).toMatch(
      /no AWS credentials.*AWS_PROFILE/,
    );
  });

  it('names the endpoint it could not reach', () => {
    const error = toKmsError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), { operation: 'Encrypt', where: 'endpoint http://127.0.0.1:1' });
    expect(error.message).toBe('KMS Encrypt failed: cannot reach KMS (endpoint http://127.0.0.1:1) (ECONNREFUSED); check the endpoint/region and the network');
    expect(error.retryable).toBe(true);
  });
});
