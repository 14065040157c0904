import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { buildClient, CommitmentPolicy, getClient, KMS, KmsKeyringNode } from '@aws-crypto/client-node';
import { kmsEndpoint, TEST_CREDENTIALS, TEST_REGION } from '../../harness/endpoints';
import { createTestKey, kmsChildEnv, type TestKey } from './kms-test-keys';

/**
 * `shardline kms …` and `shardline run` with `@Secret('kms:…')`, as a user runs them: child processes of the built
 * CLI (`npm run build` first) against the local KMS, with the KMS endpoint in AWS_ENDPOINT_URL_KMS.
 */
const ROOT = path.resolve(__dirname, '../../..');
const CLI = path.join(ROOT, 'bin/shardline.js');
const FIXTURES = path.join(__dirname, 'fixtures');
const MB = 1024 * 1024;

function cli(args: readonly string[], options: { input?: string | Buffer; env?: Record<string, string> } = {}): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [CLI, ...args], {
    cwd: ROOT,
    env: kmsChildEnv(options.env),
    input: options.input ?? '',
    encoding: 'utf8',
    timeout: 90_000,
    maxBuffer: 64 * MB,
  });
}

function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function lines(text: string): string[] {
  return text.split('\n').filter((line) => line !== '');
}

describe('shardline kms CLI and @Secret on a local KMS', () => {
  let key: TestKey;
  let dir: string;

  beforeAll(async () => {
    if (!existsSync(path.join(ROOT, 'dist/cli/main.js'))) throw new Error('dist/ is missing: run `npm run build` before the integration tests');
    key = await createTestKey('cli');
    dir = mkdtempSync(path.join(tmpdir(), 'shardline-kms-'));
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  describe('kms encrypt / decrypt', () => {
    it('encrypts stdin to paste-ready base64 and decrypts it back', () => {
      const encrypted = cli(['kms', 'encrypt', '--key', key.alias, '--context', 'app=flights'], { input: 'redis.internal:6379\n' });
      expect(encrypted.stderr).toBe('');
      expect(encrypted.status).toBe(0);
      const ciphertext = encrypted.stdout.trim();
      expect(ciphertext).toMatch(/^[A-Za-z0-9+/]+={0,2}$/);
      const decrypted = cli(['kms', 'decrypt', '--ciphertext', ciphertext, '--context', 'app=flights']);
      expect(decrypted.status).toBe(0);
      expect(decrypted.stdout).toBe('redis.internal:6379');
    });

    it('fails with one line and exit 1 on a wrong context', () => {
      const ciphertext = cli(['kms', 'encrypt', '--key', key.keyArn, '--text', 'v', '--context', 'app=a']).stdout.trim();
      const result = cli(['kms', 'decrypt', '--ciphertext', ciphertext, '--context', 'app=b']);
      expect(result.status).toBe(1);
      expect(lines(result.stderr)).toHaveLength(1);
      expect(result.stderr).toMatch(/^shardline: KMS Decrypt failed: .*InvalidCiphertextException.*encryption context/);
    });

    it('refuses 4,097 bytes with one line pointing at encrypt-file', () => {
      const result = cli(['kms', 'encrypt', '--key', key.alias], { input: Buffer.alloc(4097, 65) });
      expect(result.status).toBe(1);
      expect(lines(result.stderr)).toEqual([
        "shardline: the plaintext is 4097 bytes but KMS Encrypt takes at most 4096: put it in a file and use 'shardline kms encrypt-file' (envelope encryption)",
      ]);
    });

    it('exits 2 with one line for a missing --key', () => {
      const result = cli(['kms', 'encrypt', '--text', 'x']);
      expect(result.status).toBe(2);
      expect(lines(result.stderr)[0]).toBe("error: required option '-k, --key <id>' not specified");
    });
  });

  describe('kms encrypt-file / decrypt-file (envelope encryption)', () => {
    it('round-trips a 20 MB file with progress on stderr, and refuses a wrong context without leaving output', () => {
      const input = path.join(dir, 'big.bin');
      const data = randomBytes(20 * MB);
      writeFileSync(input, data);
      const encrypted = cli(['kms', 'encrypt-file', input, '--key', key.alias, '--context', 'app=files']);
      expect(encrypted.status).toBe(0);
      expect(encrypted.stderr).toContain(`encrypting ${input}: 50% (10.5 of 21.0 MB)`);
      expect(encrypted.stderr).toContain(`shardline: encrypted ${input} -> ${input}.encrypted`);
      expect(readFileSync(`${input}.encrypted`).includes(data.subarray(0, 64))).toBe(false);

      const wrong = cli(['kms', 'decrypt-file', `${input}.encrypted`, '-o', path.join(dir, 'wrong.bin'), '--context', 'app=other', '--no-progress']);
      expect(wrong.status).toBe(1);
      expect(lines(wrong.stderr)).toEqual([
        'shardline: the encryption context does not match: expected {app=other}, the message was encrypted with {app=files}; pass the context the data was encrypted with',
      ]);
      expect(existsSync(path.join(dir, 'wrong.bin'))).toBe(false);

      const output = path.join(dir, 'big.out');
      const decrypted = cli(['kms', 'decrypt-file', `${input}.encrypted`, '-o', output, '--context', 'app=files']);
      expect(decrypted.status).toBe(0);
      expect(decrypted.stderr).toContain('decrypting');
      expect(sha256(readFileSync(output))).toBe(sha256(data));

      const again = cli(['kms', 'decrypt-file', `${input}.encrypted`, '-o', output]);
      expect(again.status).toBe(1);
      expect(again.stderr).toMatch(/already exists: choose another output or pass --force/);
    });

    it.each(['encrypt', 'decrypt'])('%ss a 20 MB file in bounded memory', (op) => {
      const input = path.join(dir, `mem-${op}.bin`);
      const encrypted = path.join(dir, `mem-${op}.bin.encrypted`);
      writeFileSync(input, randomBytes(20 * MB));
      const context = JSON.stringify({ app: 'memory' });
      const run = (mode: string, from: string, to: string): { peakGrowthBytes: number } => {
        // A 1 MB young generation makes V8 free spent buffers promptly, so RSS reflects live memory rather than garbage.
        const child = spawnSync(
          process.execPath,
          ['--max-semi-space-size=1', '-r', './dist/cli/register.js', path.join(FIXTURES, 'measure-envelope-memory.ts'), mode, key.alias, from, to, context],
          { cwd: ROOT, env: kmsChildEnv({ AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' }), encoding: 'utf8', timeout: 120_000 },
        );
        expect({ status: child.status, stderr: child.stderr }).toEqual({ status: 0, stderr: '' });
        return JSON.parse(child.stdout) as { peakGrowthBytes: number };
      };
      const encryptRun = run('encrypt', input, encrypted);
      const measured = op === 'encrypt' ? encryptRun : run('decrypt', encrypted, path.join(dir, `mem-${op}.out`));
      process.stderr.write(`[kms] ${op} of 20 MB: peak RSS growth ${(measured.peakGrowthBytes / MB).toFixed(1)} MiB\n`);
      // Holding the file would cost at least 20 MB (plaintext) plus 20 MB (ciphertext); streaming stays near a few frames.
      expect(measured.peakGrowthBytes).toBeLessThan(16 * MB);
    });

    it('a file encrypted by shardline decrypts with the plain Encryption SDK, and the reverse', async () => {
      const sdkClientProvider = getClient(KMS, { region: TEST_REGION, endpoint: kmsEndpoint(), credentials: TEST_CREDENTIALS });
      const { encryptStream, decryptStream } = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);
      const data = randomBytes(3 * MB);
      const ours = path.join(dir, 'ours.bin');
      writeFileSync(ours, data);
      expect(cli(['kms', 'encrypt-file', ours, '--key', key.alias, '--context', 'app=interop']).status).toBe(0);
      await pipeline(
        createReadStream(`${ours}.encrypted`),
        decryptStream(new KmsKeyringNode({ discovery: true, clientProvider: sdkClientProvider })),
        createWriteStream(path.join(dir, 'ours.sdk-decrypted')),
      );
      expect(sha256(readFileSync(path.join(dir, 'ours.sdk-decrypted')))).toBe(sha256(data));

      const theirs = path.join(dir, 'theirs.bin.encrypted');
      await pipeline(
        createReadStream(ours),
        encryptStream(new KmsKeyringNode({ generatorKeyId: key.keyArn, clientProvider: sdkClientProvider }), { encryptionContext: { app: 'sdk' } }),
        createWriteStream(theirs),
      );
      const result = cli(['kms', 'decrypt-file', theirs, '--context', 'app=sdk']);
      expect(result.status).toBe(0);
      expect(sha256(readFileSync(path.join(dir, 'theirs.bin')))).toBe(sha256(data));
    });
  });

  describe('shardline run with @Secret', () => {
    const fixture = path.join(FIXTURES, 'secret-consumer.ts');

    function runConsumer(ref: string, logFile?: string): SpawnSyncReturns<string> {
      return cli(['run', fixture, '--adapter', 'memory'], {
        input: '{"dest":"LAX"}\n{"dest":"JFK"}\n',
        env: { SHARDLINE_TEST_SECRET_REF: ref, ...(logFile !== undefined ? { SHARDLINE_TEST_LOG_FILE: logFile } : {}) },
      });
    }

    it('gives the consumer the kms: plaintext before @OnInit and masks it in every log line', () => {
      const secret = `redis-${randomBytes(6).toString('hex')}.internal:6379`;
      const ciphertext = cli(['kms', 'encrypt', '--key', key.alias, '--text', secret, '--context', 'app=flights']).stdout.trim();
      const logFile = path.join(dir, 'secret.log');
      const result = runConsumer(`kms:${ciphertext}`, logFile);
      expect(result.status).toBe(0);
      const logText = readFileSync(logFile, 'utf8');
      for (const output of [result.stderr, logText, result.stdout]) {
        expect(output).not.toContain(secret);
        expect(output).not.toContain(secret.slice(0, 18));
      }
      // @OnInit saw the plaintext (its hash), the lines that printed it show a mask instead, and so does the metadata.
      expect(logText).toContain(`secret-sha256=${sha256(secret)}`);
      expect(logText).toContain('Connecting to Redis at ****');
      expect(logText).toContain("host: '****'");
      expect(logText).toContain('redis://****/0');
      expect(logText).toContain('Received 2 records; host ****');
      expect(logText).not.toContain('redisHost');
      expect(result.stderr).toContain(`secret-sha256=${sha256(secret)}`);
    });

    it('resolves a kms-file: secret (an envelope-encrypted file)', () => {
      const secret = `file-secret-${randomBytes(6).toString('hex')}`;
      const plain = path.join(dir, 'secret.txt');
      writeFileSync(plain, `${secret}\n`);
      expect(cli(['kms', 'encrypt-file', plain, '--key', key.alias, '--context', 'app=flights']).status).toBe(0);
      const result = runConsumer(`kms-file:${plain}.encrypted`);
      expect(result.status).toBe(0);
      expect(result.stderr).toContain(`secret-sha256=${sha256(secret)}`);
      expect(result.stderr).not.toContain(secret);
    });

    it('fails at start-up with exit 1 and one line naming the property and the reason', () => {
      const ciphertext = cli(['kms', 'encrypt', '--key', key.alias, '--text', 'x', '--context', 'app=somewhere-else']).stdout.trim();
      const result = runConsumer(`kms:${ciphertext}`);
      expect(result.status).toBe(1);
      const stderr = lines(result.stderr);
      expect(stderr).toHaveLength(1);
      expect(stderr[0]).toMatch(/^shardline: cannot resolve secret SecretConsumer\.redisHost \(kms:\): KMS Decrypt failed: .*\(InvalidCiphertextException\).*encryption context/);
      expect(result.stderr).not.toContain('Initializing');
    });
  });
});
