import { KMSClient, type KMSClientConfig } from '@aws-sdk/client-kms';
import { createHttpHandler } from '../core/http-handler';
import { type KmsServiceOptions } from './kms-options';

/**
 * Creates the KMS client of a {@link KmsService}: region, endpoint and credentials from the options or the usual AWS
 * chain (`AWS_REGION`, `AWS_ENDPOINT_URL_KMS`, `AWS_PROFILE`, …), HTTP/1.1, and no SDK-level retries (the service
 * retries itself, so that throttling is retried the same way whatever client is used).
 */
export function createKmsClient(options: KmsServiceOptions, region?: string): KMSClient {
  const config: KMSClientConfig = {
    requestHandler: createHttpHandler({ connectionTimeoutMs: 5_000, requestTimeoutMs: 30_000 }),
    maxAttempts: 1,
    ...((region ?? options.region) !== undefined ? { region: region ?? options.region } : {}),
    ...(options.endpoint !== undefined ? { endpoint: options.endpoint } : {}),
    ...(options.profile !== undefined ? { profile: options.profile } : {}),
    ...(options.credentials !== undefined ? { credentials: options.credentials } : {}),
  };
  return new KMSClient(config);
}
