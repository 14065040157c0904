import { Command, InvalidArgumentError, Option } from 'commander';
import { formatContext, parseContextPairs, type EncryptionContext } from '../../kms/encryption-context';
import { readAll, type ProgressListener } from '../../kms/envelope-cipher';
import { KmsError } from '../../kms/kms-error';
import { KMS_MAX_PLAINTEXT_BYTES, KmsService } from '../../kms/kms.service';

/** Options every `shardline kms` subcommand takes. */
interface KmsConnectionOptions {
  readonly region?: string;
  readonly endpoint?: string;
  readonly profile?: string;
  readonly context: readonly string[];
}

/** Files at least this large get a progress display on stderr. */
const PROGRESS_MIN_BYTES = 1024 * 1024;

/** `shardline kms`: encrypt and decrypt secrets (KMS) and files (envelope encryption, AWS Encryption SDK format). */
export function kmsCommand(): Command {
  const kms = new Command('kms')
    .description('encrypt and decrypt secrets and files with KMS')
    .addHelpText(
      'after',
      `
Secrets (up to ${KMS_MAX_PLAINTEXT_BYTES} bytes) use KMS Encrypt/Decrypt; paste the output into @Secret('kms:<ciphertext>').
Files of any size use envelope encryption in the AWS Encryption SDK format (decryptable by any Encryption SDK).
Region, endpoint and credentials come from the usual AWS chain (AWS_REGION, AWS_ENDPOINT_URL_KMS, AWS_PROFILE, …)
unless --region, --endpoint or --profile is given.

Examples:
  $ echo -n 'redis.internal:6379' | shardline kms encrypt --key alias/flights --context app=flights
  $ shardline kms decrypt --ciphertext AQICAH… --context app=flights
  $ shardline kms encrypt-file --key alias/flights data.json          (writes data.json.encrypted)
  $ shardline kms decrypt-file data.json.encrypted -o data.json`,
    );

  kms.addCommand(
    withConnection(new Command('encrypt'))
      .description(`encrypt a secret of up to ${KMS_MAX_PLAINTEXT_BYTES} bytes (from --text or stdin) and print its base64 ciphertext`)
      .requiredOption('-k, --key <id>', 'KMS key: key id, key ARN, alias/name or alias ARN')
      .option('-t, --text <plaintext>', 'the plaintext (default: read stdin)')
      .option('--keep-newline', 'keep a trailing newline read from stdin (dropped by default)')
      .action(async (options: KmsConnectionOptions & { key: string; text?: string; keepNewline?: boolean }, command: Command) => {
        const plaintext = options.text !== undefined ? Buffer.from(options.text, 'utf8') : await readStdin(command, 'pass --text or pipe the secret on stdin', options.keepNewline !== true);
        if (plaintext.length === 0) command.error('error: the plaintext is empty', { exitCode: 2 });
        if (plaintext.length > KMS_MAX_PLAINTEXT_BYTES) {
          throw new KmsError(
            `the plaintext is ${plaintext.length} bytes but KMS Encrypt takes at most ${KMS_MAX_PLAINTEXT_BYTES}: put it in a file and use 'shardline kms encrypt-file' (envelope encryption)`,
            { code: 'PlaintextTooLarge' },
          );
        }
        const ciphertext = await service(options).encrypt(options.key, plaintext, context(options));
        process.stdout.write(`${ciphertext}\n`);
      }),
  );

  kms.addCommand(
    withConnection(new Command('decrypt'))
      .description('decrypt a base64 ciphertext made by "shardline kms encrypt" (from --ciphertext or stdin) and print the plaintext')
      .option('-c, --ciphertext <base64>', 'the ciphertext (default: read stdin)')
      .action(async (options: KmsConnectionOptions & { ciphertext?: string }, command: Command) => {
        const text = options.ciphertext ?? (await readStdin(command, 'pass --ciphertext or pipe the ciphertext on stdin', true)).toString('utf8');
        const plaintext = await service(options).decrypt(text.trim(), context(options));
        process.stdout.write(plaintext);
        if (process.stdout.isTTY === true) process.stdout.write('\n');
      }),
  );

  kms.addCommand(
    withFileOptions(withConnection(new Command('encrypt-file')))
      .description('envelope-encrypt a file of any size (AWS Encryption SDK message format), streaming')
      .argument('<input>', 'file to encrypt')
      .requiredOption('-k, --key <id>', 'KMS key that wraps the data key: key id, key ARN, alias/name or alias ARN')
      .action(async (input: string, options: KmsConnectionOptions & FileOptions & { key: string }) => {
        const output = options.output ?? `${input}.encrypted`;
        await service(options).encryptFile(options.key, input, output, fileOptions(options, 'encrypting', input));
        process.stderr.write(`shardline: encrypted ${input} -> ${output}${describeContext(context(options))}\n`);
      }),
  );

  kms.addCommand(
    withFileOptions(withConnection(new Command('decrypt-file')))
      .description('decrypt an envelope-encrypted file (made by encrypt-file or any AWS Encryption SDK), streaming')
      .argument('<input>', 'file to decrypt')
      .action(async (input: string, options: KmsConnectionOptions & FileOptions) => {
        const output = options.output ?? (input.endsWith('.encrypted') && input.length > '.encrypted'.length ? input.slice(0, -'.encrypted'.length) : `${input}.decrypted`);
        await service(options).decryptFile(input, output, fileOptions(options, 'decrypting', input));
        process.stderr.write(`shardline: decrypted ${input} -> ${output}\n`);
      }),
  );
  return kms;
}

interface FileOptions {
  readonly output?: string;
  readonly force?: boolean;
  readonly progress: boolean;
}

function withConnection(command: Command): Command {
  return command
    .addOption(
      new Option('--context <key=value>', 'encryption context pair (repeat for more); needed again to decrypt')
        .argParser(collectPair)
        .default([] as string[], 'none'),
    )
    .option('--region <region>', 'AWS region (default: AWS_REGION or the profile)')
    .option('--endpoint <url>', 'KMS endpoint, e.g. http://127.0.0.1:5000 for a local KMS (default: AWS_ENDPOINT_URL_KMS)')
    .option('--profile <name>', 'AWS profile (default: AWS_PROFILE)');
}

function withFileOptions(command: Command): Command {
  return command
    .option('-o, --output <path>', 'where to write (default: <input>.encrypted, or <input> without .encrypted)')
    .option('-f, --force', 'replace the output file if it exists')
    .addOption(new Option('--no-progress', `do not show progress on stderr (shown for files of ${PROGRESS_MIN_BYTES / 1024 / 1024} MiB or more)`));
}

function collectPair(value: string, previous: readonly string[]): string[] {
  if (value.indexOf('=') <= 0) throw new InvalidArgumentError(`expected key=value, got "${value}"`);
  return [...previous, value];
}

function context(options: KmsConnectionOptions): EncryptionContext | undefined {
  return parseContextPairs(options.context);
}

function describeContext(ctx: EncryptionContext | undefined): string {
  return ctx === undefined ? '' : ` (encryption context ${formatContext(ctx)})`;
}

function service(options: KmsConnectionOptions): KmsService {
  return new KmsService({
    ...(options.region !== undefined ? { region: options.region } : {}),
    ...(options.endpoint !== undefined ? { endpoint: options.endpoint } : {}),
    ...(options.profile !== undefined ? { profile: options.profile } : {}),
  });
}

async function readStdin(command: Command, hint: string, dropNewline: boolean): Promise<Buffer> {
  if (process.stdin.isTTY === true) command.error(`error: nothing to read: ${hint}`, { exitCode: 2 });
  // A secret is small: anything far above the KMS limit is refused without reading it all.
  const data = await readAll(process.stdin, 1024 * 1024).catch((error: unknown) => {
    throw error instanceof KmsError && error.code === 'InputTooLarge'
      ? new KmsError(`stdin has more than 1 MiB: for data this large use 'shardline kms encrypt-file' (envelope encryption)`, { code: 'InputTooLarge' })
      : error;
  });
  return dropNewline ? stripOneNewline(data) : data;
}

function stripOneNewline(data: Buffer): Buffer {
  if (data.length > 0 && data[data.length - 1] === 0x0a) {
    const end = data.length > 1 && data[data.length - 2] === 0x0d ? data.length - 2 : data.length - 1;
    return data.subarray(0, end);
  }
  return data;
}

function fileOptions(options: FileOptions & KmsConnectionOptions, verb: string, input: string): { context?: EncryptionContext; overwrite: boolean; onProgress?: ProgressListener } {
  const ctx = context(options);
  return {
    ...(ctx !== undefined ? { context: ctx } : {}),
    overwrite: options.force === true,
    ...(options.progress ? { onProgress: progressPrinter(verb, input) } : {}),
  };
}

/** Progress on stderr for large files: one updating line on a terminal, a line every 10% otherwise. */
function progressPrinter(verb: string, input: string): ProgressListener {
  const tty = process.stderr.isTTY === true;
  let lastStep = -1;
  return (done, total) => {
    if (total < PROGRESS_MIN_BYTES) return;
    const percent = Math.min(100, Math.floor((done / total) * 100));
    const step = tty ? percent : Math.floor(percent / 10) * 10;
    if (step === lastStep) return;
    lastStep = step;
    const line = `${verb} ${input}: ${step}% (${mb(done)} of ${mb(total)} MB)`;
    if (tty) process.stderr.write(`\r${line}${percent === 100 ? '\n' : ''}`);
    else process.stderr.write(`${line}\n`);
  };
}

function mb(bytes: number): string {
  return (bytes / 1_000_000).toFixed(1);
}
