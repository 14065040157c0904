/**
 * The health checks and metrics wiring of deploy/ (polling adapter): the ECS task definition
 * deploy/ecs/task-definition.polling.json and the Kubernetes manifest deploy/kubernetes/deployment.yaml. Their command
 * lines are parsed by the real `shardline run` command, the probes must point at the port and paths the consumer
 * serves, and the ECS health-check command is run against a real metrics server (healthy, failing, unreachable).
 */
import Ajv from 'ajv';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join, resolve } from 'node:path';
import { runCommand } from '../../../src/cli/commands/run.command';
import { startMetricsServer } from '../../../src/metrics/metrics-server';
import { ShardStatusBoard } from '../../../src/metrics/shard-status-board';

// eslint-disable-next-line @typescript-eslint/no-require-imports -- js-yaml ships no type declarations
const { loadAll } = require('js-yaml') as { loadAll(text: string): unknown[] };

const ROOT = resolve(__dirname, '../../..');
const readText = (path: string): string => readFileSync(join(ROOT, path), 'utf8');

interface HealthCheck {
  command: string[];
  interval?: number;
  timeout?: number;
  retries?: number;
  startPeriod?: number;
}
interface Container {
  name: string;
  image: string;
  entryPoint?: string[];
  command?: string[];
  portMappings?: Array<{ containerPort: number; hostPort?: number; protocol?: string; name?: string }>;
  healthCheck?: HealthCheck;
  stopTimeout?: number;
  environment?: Array<{ name: string; value: string }>;
  logConfiguration?: { logDriver: string; options?: Record<string, string> };
}
interface TaskDefinition {
  family: string;
  networkMode: string;
  taskRoleArn: string;
  executionRoleArn: string;
  containerDefinitions: Container[];
}

interface Probe {
  httpGet?: { path: string; port: number | string };
  periodSeconds?: number;
  timeoutSeconds?: number;
  failureThreshold?: number;
}
interface K8sContainer {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  ports?: Array<{ name?: string; containerPort: number; protocol?: string }>;
  startupProbe?: Probe;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  env?: Array<{ name: string; value?: string }>;
}
interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; annotations?: Record<string, string> };
  spec?: {
    replicas?: number;
    strategy?: { type: string };
    selector?: { matchLabels: Record<string, string> };
    template: {
      metadata: { labels: Record<string, string>; annotations?: Record<string, string> };
      spec: { serviceAccountName?: string; terminationGracePeriodSeconds?: number; securityContext?: { runAsUser?: number; runAsNonRoot?: boolean }; containers: K8sContainer[] };
    };
  };
}

const polling = JSON.parse(readText('deploy/ecs/task-definition.polling.json')) as TaskDefinition;
const kcl = JSON.parse(readText('deploy/ecs/task-definition.json')) as TaskDefinition;
const manifests = loadAll(readText('deploy/kubernetes/deployment.yaml')) as K8sObject[];
const dockerfile = readText('deploy/Dockerfile');

/** The options `shardline run` parses from these arguments (the real command, its action replaced). */
async function parseRun(args: readonly string[]): Promise<{ module: string; options: Record<string, unknown> }> {
  let parsed: { module: string; options: Record<string, unknown> } | undefined;
  const command = runCommand()
    .exitOverride()
    .configureOutput({ writeErr: () => undefined, writeOut: () => undefined })
    .action((module: string, options: Record<string, unknown>) => {
      parsed = { module, options };
    });
  await command.parseAsync([...args], { from: 'user' });
  if (parsed === undefined) throw new Error('shardline run did not parse');
  return parsed;
}

/** `shardline run …` arguments from a container's entrypoint + command: `node bin/shardline.js run <module> …`. */
function runArgs(entryPoint: readonly string[], command: readonly string[]): string[] {
  const all = [...entryPoint, ...command];
  expect(all.slice(0, 3)).toEqual(['node', 'bin/shardline.js', 'run']);
  return all.slice(3);
}

/** The module the image's `shardline kcl properties` line runs (the same compiled app, at the same path). */
const imageModule = /kcl properties (\S+)/.exec(dockerfile)?.[1];

describe('ECS task definition for the polling adapter (deploy/ecs/task-definition.polling.json)', () => {
  const container = polling.containerDefinitions[0]!;

  it('follows the RegisterTaskDefinition schema, whose health check limits are ECS\'s', () => {
    const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false, strictTypes: false });
    const validate = ajv.compile(JSON.parse(readText('test/unit/deploy/schemas/ecs-task-definition.schema.json')) as object);
    expect(validate(polling) ? [] : validate.errors).toEqual([]);
    const withCheck = (healthCheck: object): TaskDefinition => ({ ...polling, containerDefinitions: [{ ...container, healthCheck } as Container] });
    for (const bad of [
      { ...container.healthCheck, interval: 4 },
      { ...container.healthCheck, timeout: 61 },
      { ...container.healthCheck, retries: 0 },
      { ...container.healthCheck, startPeriod: 301 },
      { ...container.healthCheck, command: ['CMD'] },
    ]) {
      expect(validate(withCheck(bad))).toBe(false);
    }
  });

  it('runs the image of the KCL task definition with `shardline run --adapter polling`, metrics on 0.0.0.0:9464', async () => {
    const kclContainer = kcl.containerDefinitions[0]!;
    expect(container.image).toBe(kclContainer.image);
    expect(polling.taskRoleArn).toBe(kcl.taskRoleArn);
    expect(polling.executionRoleArn).toBe(kcl.executionRoleArn);
    expect(container.logConfiguration?.options?.['awslogs-group']).toBe(kclContainer.logConfiguration?.options?.['awslogs-group']);
    expect(container.environment).toEqual(kclContainer.environment);
    const { module, options } = await parseRun(runArgs(container.entryPoint ?? [], container.command ?? []));
    expect(module).toBe(imageModule);
    expect(options).toMatchObject({ adapter: 'polling', checkpoints: 'dynamodb:flights-redis', metricsPort: 9464, metricsHost: '0.0.0.0', metricsEmf: true });
    // The DynamoDB checkpoint store uses the lease table the task role grants (deploy/iam/task-role-policy.json).
    expect(readText('deploy/iam/task-role-policy.json')).toContain(':table/flights-redis"');
  });

  it('maps the metrics port, and its health check asks /healthz on that port inside the container, with node (no curl)', async () => {
    const { options } = await parseRun(runArgs(container.entryPoint ?? [], container.command ?? []));
    expect(container.portMappings).toEqual([{ name: 'metrics', containerPort: options['metricsPort'], protocol: 'tcp' }]);
    // awsvpc: a host port, if given, must equal the container port.
    for (const mapping of container.portMappings ?? []) if (mapping.hostPort !== undefined) expect(mapping.hostPort).toBe(mapping.containerPort);
    const check = container.healthCheck!;
    // ECS runs ["CMD", exec form…] or ["CMD-SHELL", "<line>"]; exec form needs no shell in the image.
    expect(check.command.slice(0, 3)).toEqual(['CMD', 'node', '-e']);
    expect(check.command[3]).toContain(`http://127.0.0.1:${String(options['metricsPort'])}/healthz`);
    expect(check.timeout!).toBeLessThan(check.interval!);
    // The consumer's graceful stop (--shutdown-timeout-ms, 30 s by default) fits in the stop timeout.
    expect(container.stopTimeout).toBeGreaterThan(30);
  });

  describe('the health-check command, run against real servers', () => {
    const script = container.healthCheck!.command[3]!;
    const run = (port: number): Promise<number> =>
      new Promise((resolveCode) => {
        execFile(process.execPath, ['-e', script.replace('127.0.0.1:9464', `127.0.0.1:${port}`)], { timeout: 20_000 }, (error) => {
          resolveCode(error === null ? 0 : typeof error.code === 'number' ? error.code : -1);
        });
      });
    let board: ShardStatusBoard;

    beforeEach(() => {
      board = new ShardStatusBoard();
    });
    afterEach(() => board.close());

    it('exits 0 while /healthz answers 200', async () => {
      const server = await startMetricsServer({ port: 0, board });
      try {
        expect(await run(server.port)).toBe(0);
      } finally {
        await server.close();
      }
    });

    it('exits 1 when /healthz answers 503, and when nothing listens', async () => {
      const failing: Server = createServer((_request, response) => {
        response.writeHead(503, { 'content-type': 'application/json' });
        response.end('{"status":"error"}');
      });
      await new Promise<void>((done) => failing.listen(0, '127.0.0.1', done));
      const port = (failing.address() as { port: number }).port;
      try {
        expect(await run(port)).toBe(1);
      } finally {
        await new Promise<void>((done) => failing.close(() => done()));
      }
      expect(await run(port)).toBe(1);
    });
  });
});

describe('Kubernetes manifest for the polling adapter (deploy/kubernetes/deployment.yaml)', () => {
  const deployment = manifests.find((m) => m.kind === 'Deployment')!;
  const serviceAccount = manifests.find((m) => m.kind === 'ServiceAccount')!;
  const pod = deployment.spec!.template;
  const container = pod.spec.containers[0]!;

  it('is a ServiceAccount and an apps/v1 Deployment whose selector matches its pods', () => {
    expect(manifests.map((m) => `${m.apiVersion} ${m.kind}`)).toEqual(['v1 ServiceAccount', 'apps/v1 Deployment']);
    expect(pod.spec.serviceAccountName).toBe(serviceAccount.metadata.name);
    expect(pod.metadata.labels).toMatchObject(deployment.spec!.selector!.matchLabels);
    expect(container.image).toBe(polling.containerDefinitions[0]!.image);
  });

  it('runs one poller at a time (the polling adapter owns every shard): one replica, Recreate on update', () => {
    expect(deployment.spec!.replicas).toBe(1);
    expect(deployment.spec!.strategy?.type).toBe('Recreate');
  });

  it('probes the port and paths the consumer serves: startup and liveness on /healthz, readiness on /readyz', async () => {
    const { module, options } = await parseRun(runArgs(container.command ?? [], container.args ?? []));
    expect(module).toBe(imageModule);
    expect(options).toMatchObject({ adapter: 'polling', metricsPort: 9464 });
    // The kubelet probes the pod's IP, not loopback: the server must listen on every interface.
    expect(options['metricsHost']).toBe('0.0.0.0');
    const port = (probe: Probe | undefined): number | undefined => {
      const ref = probe?.httpGet?.port;
      return typeof ref === 'number' ? ref : container.ports?.find((p) => p.name === ref)?.containerPort;
    };
    expect(port(container.startupProbe)).toBe(options['metricsPort']);
    expect(port(container.livenessProbe)).toBe(options['metricsPort']);
    expect(port(container.readinessProbe)).toBe(options['metricsPort']);
    expect(container.startupProbe?.httpGet?.path).toBe('/healthz');
    expect(container.livenessProbe?.httpGet?.path).toBe('/healthz');
    expect(container.readinessProbe?.httpGet?.path).toBe('/readyz');
    for (const probe of [container.startupProbe, container.livenessProbe, container.readinessProbe]) {
      expect(probe!.timeoutSeconds!).toBeLessThan(probe!.periodSeconds!);
      expect(probe!.failureThreshold!).toBeGreaterThanOrEqual(1);
    }
    // Liveness tolerates more than readiness before it restarts the container.
    expect(container.livenessProbe!.failureThreshold! * container.livenessProbe!.periodSeconds!).toBeGreaterThan(
      container.readinessProbe!.failureThreshold! * container.readinessProbe!.periodSeconds!,
    );
  });

  it('asks Prometheus to scrape /metrics on the metrics port', async () => {
    const { options } = await parseRun(runArgs(container.command ?? [], container.args ?? []));
    expect(pod.metadata.annotations).toEqual({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(options['metricsPort']), 'prometheus.io/path': '/metrics' });
  });

  it('runs as the image\'s user and leaves the consumer time to checkpoint on SIGTERM', () => {
    const uid = /useradd [^\n]*--uid (\d+)/.exec(dockerfile)?.[1];
    expect(pod.spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: Number(uid) });
    expect(pod.spec.terminationGracePeriodSeconds).toBeGreaterThan(30);
    expect(container.env).toEqual(polling.containerDefinitions[0]!.environment);
  });
});
