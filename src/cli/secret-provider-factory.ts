import { type SecretProvider } from '../core/secret-provider';
import { KmsSecretProvider } from '../kms/kms-secret-provider';
import { KmsService } from '../kms/kms.service';
import { type RunOptions } from './cli-adapter';

/**
 * The secret provider `shardline run` gives consumers for `kms:` and `kms-file:` secrets. The KMS client is created
 * only when the first such secret is resolved, with the AWS chain's settings: region from `--region` or
 * `AWS_REGION`, endpoint from `AWS_ENDPOINT_URL_KMS` (e.g. a local KMS), credentials from the environment, profile
 * or role. (`--endpoint` is Kinesis's, so it is not used for KMS.)
 */
export function createSecretProvider(options: RunOptions, env: NodeJS.ProcessEnv = process.env): SecretProvider {
  return new KmsSecretProvider(() => {
    const endpoint = env.AWS_ENDPOINT_URL_KMS;
    const region = options.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
    return new KmsService({
      ...(region !== undefined && region !== '' ? { region } : {}),
      ...(endpoint !== undefined && endpoint !== '' ? { endpoint } : {}),
    });
  });
}
