import { type KMSClient } from '@aws-sdk/client-kms';
import { type InjectionToken } from 'tsyringe';

/** Options of {@link KmsService}. Everything is optional: by default the usual AWS chain (env, profile, role) is used. */
export interface KmsServiceOptions {
  /** A ready KMS client (tests, custom middleware). When given, region/endpoint/profile/credentials are ignored. */
  readonly client?: KMSClient;
  /** AWS region. Default: the SDK's chain (`AWS_REGION`, the profile's region). */
  readonly region?: string;
  /** KMS endpoint, e.g. `http://127.0.0.1:5000` for a local KMS. Default: `AWS_ENDPOINT_URL_KMS`, then AWS. */
  readonly endpoint?: string;
  /** Named profile of `~/.aws/config` / `~/.aws/credentials`. Default: `AWS_PROFILE`, then `default`. */
  readonly profile?: string;
  /** Static credentials (tests); default: the SDK's credential chain. */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string; readonly sessionToken?: string };
  /** Attempts per KMS call, the first included, for throttling and transient errors. Default 5. */
  readonly maxAttempts?: number;
  /** First backoff delay between attempts (doubled each time, with full jitter). Default 100 ms. */
  readonly retryBaseDelayMs?: number;
  /** Longest backoff delay between attempts. Default 5,000 ms. */
  readonly retryMaxDelayMs?: number;
  /** Frame size of envelope-encrypted messages, in bytes. Default 65,536 (memory per stream stays near this). */
  readonly frameLengthBytes?: number;
}

/** Injection token of the {@link KmsServiceOptions} an injected `KmsService` uses (optional). */
export const KMS_SERVICE_OPTIONS: InjectionToken<KmsServiceOptions> = Symbol.for('shardline:KmsServiceOptions');
