import { consumerNameProblem } from '../../../src/adapters/efo/consumer-name';
import { classifySubscribeError } from '../../../src/adapters/efo/subscribe-error-kind';
import { permissionError } from '../../../src/adapters/efo/stream-consumers';
import { StartupError } from '../../../src/core/errors';

const named = (name: string, extra: Record<string, unknown> = {}): Error => Object.assign(new Error(`${name} happened`), { name, ...extra });

describe('consumer names', () => {
  it('accepts what Kinesis accepts: 1 to 128 of letters, digits, _ . -', () => {
    for (const ok of ['a', 'billing', 'Billing_app.v2-eu', 'x'.repeat(128)]) expect(consumerNameProblem(ok)).toBeUndefined();
  });

  it('says what is wrong, in one line', () => {
    expect(consumerNameProblem('')).toMatch(/empty/);
    expect(consumerNameProblem('x'.repeat(129))).toMatch(/129 characters long: Kinesis allows at most 128/);
    expect(consumerNameProblem('billing app/1')).toBe('the consumer name "billing app/1" has characters Kinesis does not allow (" " "/"): use only letters, digits, _ . and -');
  });
});

describe('SubscribeToShard errors', () => {
  it('classifies refusals, throttling, broken streams, gone resources and configuration errors', () => {
    expect(classifySubscribeError(named('ResourceInUseException'))).toBe('in-use');
    expect(classifySubscribeError(named('LimitExceededException'))).toBe('throttled');
    expect(classifySubscribeError(named('KMSThrottlingException'))).toBe('throttled');
    expect(classifySubscribeError(named('InternalFailureException'))).toBe('throttled');
    expect(classifySubscribeError(named('Error', { code: 'ERR_HTTP2_STREAM_ERROR' }))).toBe('network');
    expect(classifySubscribeError(named('Error', { code: 'ECONNRESET' }))).toBe('network');
    expect(classifySubscribeError(named('IdleSubscriptionError'))).toBe('network');
    expect(classifySubscribeError(named('EarlyEndError'))).toBe('network');
    expect(classifySubscribeError(named('ResourceNotFoundException'))).toBe('not-found');
    expect(classifySubscribeError(named('AbortError'))).toBe('aborted');
    expect(classifySubscribeError(named('AccessDeniedException'))).toBe('fatal');
    expect(classifySubscribeError(named('KMSDisabledException'))).toBe('fatal');
  });

  it('names the missing permission of an access denial, and nothing else', () => {
    const error = permissionError(named('AccessDeniedException'), 'SubscribeToShard', 'orders');
    expect(error).toBeInstanceOf(StartupError);
    expect(error?.message).toMatch(/^enhanced fan-out on orders needs the IAM permission kinesis:SubscribeToShard on the stream consumer \(AccessDeniedException\)/);
    expect(permissionError(named('ResourceInUseException'), 'SubscribeToShard', 'orders')).toBeUndefined();
  });
});
