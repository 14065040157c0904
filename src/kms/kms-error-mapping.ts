import { KmsError } from './kms-error';

/** What a KMS call was doing, for error messages. */
export interface KmsCallContext {
  /** The KMS operation: `Encrypt`, `Decrypt`, `GenerateDataKey`. */
  readonly operation: string;
  /** The key id, ARN or alias asked for (Decrypt has none: KMS reads the key from the ciphertext). */
  readonly keyId?: string;
  /** Where the client sends requests (`region us-east-1` or an endpoint URL), when known. */
  readonly where?: string;
}

const RETRYABLE_NAMES = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'LimitExceededException',
  'KMSInternalException',
  'DependencyTimeoutException',
  'KeyUnavailableException',
  'InternalFailure',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
]);

const RETRYABLE_NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNABORTED']);

interface AwsLikeError {
  readonly name?: unknown;
  readonly code?: unknown;
  readonly message?: unknown;
  readonly $retryable?: unknown;
  readonly $metadata?: { readonly httpStatusCode?: number };
}

function fields(error: unknown): AwsLikeError {
  return typeof error === 'object' && error !== null ? (error) : {};
}

/** The AWS error name (`NotFoundException`), or the Node error code (`ECONNREFUSED`), or `Error`. */
export function kmsErrorName(error: unknown): string {
  const { name, code } = fields(error);
  if (typeof code === 'string' && RETRYABLE_NETWORK_CODES.has(code)) return code;
  if (typeof name === 'string' && name !== 'Error') return name;
  if (typeof code === 'string') return code;
  return 'Error';
}

/** True for throttling, KMS internal errors, 5xx answers and network failures: the call may succeed if retried. */
export function isRetryableKmsError(error: unknown): boolean {
  if (error instanceof KmsError) return error.retryable;
  const { name, code, $retryable, $metadata } = fields(error);
  if (typeof name === 'string' && RETRYABLE_NAMES.has(name)) return true;
  if (typeof code === 'string' && RETRYABLE_NETWORK_CODES.has(code)) return true;
  if ($retryable !== undefined && $retryable !== null) return true;
  const status = $metadata?.httpStatusCode;
  return typeof status === 'number' && (status >= 500 || status === 429);
}

function describeKey(keyId: string | undefined): string {
  return keyId === undefined ? 'the key the ciphertext was made with' : `key ${keyId}`;
}

/**
 * Turns an error of a KMS call into a {@link KmsError} whose message says what went wrong and what to check.
 * The original error is kept as `cause`.
 */
export function toKmsError(error: unknown, call: KmsCallContext): KmsError {
  if (error instanceof KmsError) return error;
  const name = kmsErrorName(error);
  const detail = typeof fields(error).message === 'string' ? String(fields(error).message) : String(error);
  const where = call.where === undefined ? '' : ` (${call.where})`;
  const key = describeKey(call.keyId);
  const make = (message: string, retryable = false): KmsError => new KmsError(message, { cause: error, code: name, retryable });
  switch (name) {
    case 'InvalidCiphertextException':
      return make(
        `KMS ${call.operation} failed: the ciphertext is not valid for this KMS${where} (InvalidCiphertextException); check that it was copied whole, that the encryption context is exactly the one it was encrypted with, and that the region and account are the ones of the key`,
      );
    case 'NotFoundException':
      return make(`KMS ${call.operation} failed: ${key} was not found${where} (NotFoundException); check the key id, ARN or alias name and the region`);
    case 'DisabledException':
      return make(`KMS ${call.operation} failed: ${key} is disabled${where} (DisabledException); enable it ('aws kms enable-key') or use another key`);
    case 'KMSInvalidStateException':
      return make(`KMS ${call.operation} failed: ${key} cannot be used in its current state${where} (KMSInvalidStateException), e.g. pending deletion or import; check its state with 'aws kms describe-key'`);
    case 'AccessDeniedException':
      return make(
        `KMS ${call.operation} failed: access to ${key} was denied${where} (AccessDeniedException); check that the IAM policy of these credentials and the key policy allow kms:${call.operation}, and that the encryption context matches any condition on it`,
      );
    case 'IncorrectKeyException':
    case 'InvalidKeyUsageException':
      return make(`KMS ${call.operation} failed: ${key} cannot do this (${name}: ${detail}); use a symmetric ENCRYPT_DECRYPT key`);
    case 'CredentialsProviderError':
      return make(`KMS ${call.operation} failed: no AWS credentials were found; set AWS_PROFILE (or --profile), AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run with an IAM role`);
    case 'UnrecognizedClientException':
    case 'InvalidSignatureException':
    case 'ExpiredTokenException':
      return make(`KMS ${call.operation} failed: the AWS credentials were refused${where} (${name}); check or refresh them`);
    default:
      break;
  }
  if (/region is missing/i.test(detail)) {
    return make(`KMS ${call.operation} failed: no AWS region is set; set AWS_REGION (or pass --region / the region option)`);
  }
  if (RETRYABLE_NETWORK_CODES.has(name)) {
    return make(`KMS ${call.operation} failed: cannot reach KMS${where} (${name}); check the endpoint/region and the network`, true);
  }
  if (isRetryableKmsError(error)) {
    return make(`KMS ${call.operation} failed after retries${where} (${name}: ${detail}); KMS is throttling or unavailable, try again later or lower the request rate`, true);
  }
  return make(`KMS ${call.operation} failed${where} (${name}: ${detail})`);
}
