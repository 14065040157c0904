import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import 'reflect-metadata';
import { createLogger } from '../../../src/core/logger';
import { Consumer, OnInit, OnRecords } from '../../../src/decorators';
import { ShardContext } from '../../../src/core/shard-context';
import { type KinesisRecord } from '../../../src/core/kinesis-record';
import { createTestApp } from '../../../src/testing';

const SEED_LINE = /^(ERROR|WARN|INFO|DEBUG|TRACE) \[\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC\] shardId-\d{12} .+$/;

describe('logging', () => {
  let stdout: jest.SpyInstance;
  let stderr: jest.SpyInstance;
  let dir: string;
  beforeEach(() => {
    stdout = jest.spyOn(process.stdout, 'write');
    stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    dir = mkdtempSync(path.join(tmpdir(), 'shardline-log-'));
  });
  afterEach(() => {
    expect(stdout).not.toHaveBeenCalled();
    stdout.mockRestore();
    stderr.mockRestore();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes the seed format by default: INFO [YYYY-MM-DD HH:MM:SS UTC] shardId-… message', async () => {
    jest.useFakeTimers({ now: new Date('2017-03-05T03:35:23Z') });
    try {
      const lines: string[] = [];
      const logger = createLogger({ destination: 'none' }, { sink: (l) => lines.push(l) });
      logger.child({ shardId: 'shardId-000000000000' }).info('Received 2 records');
      logger.info('not bound to a shard');
      await logger.close();
      expect(lines).toEqual(['INFO [2017-03-05 03:35:23 UTC] shardId-000000000000 Received 2 records', 'INFO [2017-03-05 03:35:23 UTC] not bound to a shard']);
    } finally {
      jest.useRealTimers();
    }
  });

  it('prints metadata after the message, readable, without winston internals', async () => {
    const lines: string[] = [];
    const logger = createLogger({ destination: 'none' }, { sink: (l) => lines.push(l) });
    logger.child({ shardId: 'shardId-000000000000' }).warn('slow batch', { records: 3 });
    await logger.close();
    expect(lines[0]).toMatch(/^WARN \[.*\] shardId-000000000000 slow batch \{ records: 3 \}$/);
  });

  it('writes to stderr by default and never to stdout', async () => {
    const logger = createLogger();
    logger.child({ shardId: 'shardId-000000000007' }).info('to stderr');
    await logger.close();
    const written = stderr.mock.calls.map((c) => String(c[0])).join('');
    expect(written).toMatch(/INFO \[.*\] shardId-000000000007 to stderr/);
  });

  it("stdoutReserved turns destination 'stdout' into stderr (KCL mode)", async () => {
    const logger = createLogger({ destination: 'stdout' }, { stdoutReserved: true });
    logger.info('protocol owns stdout');
    await logger.close();
    expect(stderr.mock.calls.map((c) => String(c[0])).join('')).toContain('protocol owns stdout');
  });

  it('json format writes one JSON object per line with level, message, shardId and timestamp', async () => {
    const lines: string[] = [];
    const logger = createLogger({ format: 'json', destination: 'none' }, { sink: (l) => lines.push(l) });
    logger.child({ shardId: 'shardId-000000000003' }).info('Received 5 records', { behindMs: 10 });
    await logger.close();
    const parsed = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(parsed).toMatchObject({ level: 'info', message: 'Received 5 records', shardId: 'shardId-000000000003', behindMs: 10 });
    expect(typeof parsed.timestamp).toBe('string');
  });

  it('the level option filters lower levels; trace is the lowest', async () => {
    const lines: string[] = [];
    const warnOnly = createLogger({ level: 'warn', destination: 'none' }, { sink: (l) => lines.push(l) });
    warnOnly.info('hidden');
    warnOnly.debug('hidden');
    warnOnly.warn('shown');
    warnOnly.error('shown too');
    expect(warnOnly.isLevelEnabled('info')).toBe(false);
    await warnOnly.close();
    expect(lines.map((l) => l.split(' ')[0])).toEqual(['WARN', 'ERROR']);
    const traceLines: string[] = [];
    const trace = createLogger({ level: 'trace', destination: 'none' }, { sink: (l) => traceLines.push(l) });
    trace.trace('deep');
    await trace.close();
    expect(traceLines[0]).toMatch(/^TRACE \[/);
  });

  it('the file option appends the lines to the file (and nothing to the console unless asked)', async () => {
    const file = path.join(dir, 'app.log');
    const logger = createLogger({ file });
    logger.child({ shardId: 'shardId-000000000000' }).info('Hello');
    logger.child({ shardId: 'shardId-000000000000' }).info('Bye');
    await logger.close();
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(line).toMatch(SEED_LINE);
    expect(lines[1]).toMatch(/ Bye$/);
    expect(stderr).not.toHaveBeenCalled();
  });

  it('a consumer with log options logs its shard lines in the seed format, to its file', async () => {
    const file = path.join(dir, 'consumer.log');
    @Consumer({ streamName: 's', applicationName: 'log-app', log: { file, level: 'info' } })
    class Logging {
      constructor(private readonly shard: ShardContext) {}
      @OnInit() hello(): void {
        this.shard.logger.info('Hello');
      }
      @OnRecords() handle(records: KinesisRecord[]): void {
        this.shard.logger.info(`Received ${records.length} records`);
        this.shard.logger.debug('not at info');
      }
    }
    const { ShardlineApp } = await import('../../../src/core/shardline-app');
    const { InMemoryRecordSource } = await import('../../../src/testing');
    const source = new InMemoryRecordSource();
    const app = await ShardlineApp.start({ consumer: Logging, source });
    await source.push('shardId-000000000000', [{ data: 'a' }, { data: 'b' }]);
    await app.stop();
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(lines.filter((l) => / shardId-000000000000 (Hello|Received 2 records)$/.test(l))).toHaveLength(2);
    expect(lines.join('\n')).not.toContain('not at info');
  });

  it('the testing kit captures lines in the production format and prints nothing', async () => {
    @Consumer({ streamName: 's', applicationName: 'log-kit' })
    class Quiet {
      constructor(private readonly shard: ShardContext) {}
      @OnRecords() handle(records: KinesisRecord[]): void {
        this.shard.logger.info(`Received ${records.length} records`);
      }
    }
    const t = await createTestApp(Quiet);
    await t.push('shardId-000000000000', ['a']);
    await t.stop();
    expect(t.logs.filter((l) => SEED_LINE.test(l) && l.endsWith('Received 1 records'))).toHaveLength(1);
    expect(stderr).not.toHaveBeenCalled();
  });
});
