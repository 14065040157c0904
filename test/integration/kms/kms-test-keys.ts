import { CreateAliasCommand, CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { kmsEndpoint, TEST_CREDENTIALS, TEST_REGION } from '../../harness/endpoints';

/** A KMS key made on the local KMS for one test file, with every way to name it. */
export interface TestKey {
  readonly keyId: string;
  readonly keyArn: string;
  readonly alias: string;
  readonly aliasArn: string;
}

/** A KMS client on the local KMS (moto server). */
export function localKmsClient(): KMSClient {
  return new KMSClient({ region: TEST_REGION, endpoint: kmsEndpoint(), credentials: TEST_CREDENTIALS, requestHandler: new NodeHttpHandler() });
}

/** Creates a symmetric key and an alias `alias/<prefix>-<random>` for it. */
export async function createTestKey(prefix: string): Promise<TestKey> {
  const client = localKmsClient();
  try {
    const created = await client.send(new CreateKeyCommand({ Description: `shardline test ${prefix}` }));
    const keyId = created.KeyMetadata?.KeyId ?? '';
    const keyArn = created.KeyMetadata?.Arn ?? '';
    const alias = `alias/${prefix}-${Math.random().toString(36).slice(2, 10)}`;
    await client.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: keyId }));
    return { keyId, keyArn, alias, aliasArn: keyArn.replace(/:key\/.*$/, `:${alias}`) };
  } finally {
    client.destroy();
  }
}

/** Environment for a child process (the CLI) that should talk to the local KMS. */
export function kmsChildEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    AWS_REGION: TEST_REGION,
    AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL_KMS: kmsEndpoint(),
    ...extra,
  };
}
