/**
 * The deployment JSON files against their schemas (IAM policy grammar, ECS task definition), plus the
 * least-privilege rules and the consistency between the files (same stream, tables, key, log group, repository).
 */
import Ajv, { type ValidateFunction } from 'ajv';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../../..');
const read = (path: string): unknown => JSON.parse(readFileSync(join(ROOT, path), 'utf8')) as unknown;

interface Statement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action?: string | string[];
  Resource?: string | string[];
  Principal?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}
interface Policy {
  Version: string;
  Statement: Statement[];
}
interface TaskDefinition {
  family: string;
  cpu: string;
  memory: string;
  taskRoleArn: string;
  executionRoleArn: string;
  requiresCompatibilities: string[];
  containerDefinitions: Array<{
    name: string;
    image: string;
    environment?: Array<{ name: string; value: string }>;
    stopTimeout?: number;
    linuxParameters?: { initProcessEnabled?: boolean };
    logConfiguration?: { logDriver: string; options?: Record<string, string> };
  }>;
}

const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false, strictTypes: false });
const iamSchema = read('test/unit/deploy/schemas/iam-policy.schema.json') as object;
ajv.addSchema(iamSchema);
const identity = ajv.getSchema('https://shardline.dev/schemas/iam-policy.json#/definitions/identityPolicy') as ValidateFunction;
const trust = ajv.getSchema('https://shardline.dev/schemas/iam-policy.json#/definitions/trustPolicy') as ValidateFunction;
const taskSchema = ajv.compile(read('test/unit/deploy/schemas/ecs-task-definition.schema.json') as object);

const taskRole = read('deploy/iam/task-role-policy.json') as Policy;
const executionRole = read('deploy/iam/execution-role-policy.json') as Policy;
const trustPolicy = read('deploy/iam/ecs-tasks-trust-policy.json') as Policy;
const task = read('deploy/ecs/task-definition.json') as TaskDefinition;

const list = (value: string | string[] | undefined): string[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);
const errors = (validate: ValidateFunction, data: unknown): string[] => (validate(data) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''}`));

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
const STREAM = 'flights';
const APP = 'flights-redis';

describe('IAM policies (deploy/iam)', () => {
  it('follow the IAM policy grammar', () => {
    expect(errors(identity, taskRole)).toEqual([]);
    expect(errors(identity, executionRole)).toEqual([]);
    expect(errors(trust, trustPolicy)).toEqual([]);
  });

  it('the schema rejects what IAM would reject', () => {
    const bad = (statement: object): string[] => errors(identity, { Version: '2012-10-17', Statement: [statement] });
    expect(bad({ Effect: 'Allow', Action: 'kinesis:GetRecords' })).not.toEqual([]); // no Resource
    expect(bad({ Effect: 'Permit', Action: 'kinesis:GetRecords', Resource: '*' })).not.toEqual([]);
    expect(bad({ Effect: 'Allow', Action: 'GetRecords', Resource: '*' })).not.toEqual([]); // no service prefix
    expect(bad({ Effect: 'Allow', Action: 'kinesis:GetRecords', Resource: 'stream/flights' })).not.toEqual([]);
    expect(bad({ Sid: 'has space', Effect: 'Allow', Action: 'kinesis:GetRecords', Resource: '*' })).not.toEqual([]);
    expect(bad({ Effect: 'Allow', Action: 'kinesis:GetRecords', Resource: '*', Condition: { StringEqualz: { 'aws:x': 'y' } } })).not.toEqual([]);
    expect(errors(identity, { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'kinesis:GetRecords', Resource: '*' }], Statment: [] })).not.toEqual([]);
    expect(errors(trust, { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: '*' }] })).not.toEqual([]);
  });

  it('grant no wildcard action, and "*" resources only where the API has no resource-level permission', () => {
    for (const policy of [taskRole, executionRole]) {
      for (const s of policy.Statement) {
        expect(s.Effect).toBe('Allow');
        for (const action of list(s.Action)) expect(action).not.toMatch(/\*/);
        if (list(s.Resource).includes('*')) {
          expect(list(s.Action).every((a) => ['cloudwatch:PutMetricData', 'ecr:GetAuthorizationToken'].includes(a))).toBe(true);
        }
      }
    }
    const metrics = taskRole.Statement.find((s) => list(s.Action).includes('cloudwatch:PutMetricData'));
    expect(metrics?.Condition).toEqual({ StringEquals: { 'cloudwatch:namespace': APP } });
  });

  it('task role: read-only Kinesis on the one stream, DynamoDB on the three KCL 3 tables and the lease index, Decrypt on one key', () => {
    const byService = (prefix: string): Statement[] => taskRole.Statement.filter((s) => list(s.Action).some((a) => a.startsWith(prefix)));
    const kinesis = byService('kinesis:');
    expect(kinesis.flatMap((s) => list(s.Resource))).toEqual([`arn:aws:kinesis:${REGION}:${ACCOUNT}:stream/${STREAM}`]);
    const kinesisActions = kinesis.flatMap((s) => list(s.Action)).sort();
    expect(kinesisActions).toEqual(['kinesis:DescribeStream', 'kinesis:DescribeStreamSummary', 'kinesis:GetRecords', 'kinesis:GetShardIterator', 'kinesis:ListShards']);

    const dynamo = byService('dynamodb:');
    const tables = new Set(dynamo.flatMap((s) => list(s.Resource)));
    const table = (name: string): string => `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${name}`;
    expect(tables).toEqual(new Set([table(APP), `${table(APP)}/index/*`, table(`${APP}-CoordinatorState`), table(`${APP}-WorkerMetricStats`)]));
    const actionsOn = (resource: string): string[] => dynamo.filter((s) => list(s.Resource).includes(resource)).flatMap((s) => list(s.Action)).sort();
    expect(actionsOn(table(APP))).toEqual(
      ['CreateTable', 'DeleteItem', 'DescribeTable', 'GetItem', 'PutItem', 'Scan', 'UpdateItem', 'UpdateTable'].map((a) => `dynamodb:${a}`),
    );
    expect(actionsOn(`${table(APP)}/index/*`)).toEqual(['dynamodb:Query']);
    expect(actionsOn(table(`${APP}-CoordinatorState`))).toEqual(['CreateTable', 'DeleteItem', 'DescribeTable', 'GetItem', 'PutItem', 'Scan', 'UpdateItem'].map((a) => `dynamodb:${a}`));
    expect(dynamo.flatMap((s) => list(s.Action))).not.toContain('dynamodb:DeleteTable');

    const kms = byService('kms:');
    expect(kms.flatMap((s) => list(s.Action))).toEqual(['kms:Decrypt']);
    expect(kms.flatMap((s) => list(s.Resource))).toHaveLength(1);
    expect(list(kms[0]!.Resource)[0]).toMatch(new RegExp(`^arn:aws:kms:${REGION}:${ACCOUNT}:key/[0-9a-f-]{36}$`));

    const services = new Set(taskRole.Statement.flatMap((s) => list(s.Action).map((a) => a.split(':')[0])));
    expect(services).toEqual(new Set(['kinesis', 'dynamodb', 'kms', 'cloudwatch']));
  });

  it('execution role: pull from the one repository, write to the one log group; trust: ECS tasks of this account only', () => {
    const resources = executionRole.Statement.flatMap((s) => list(s.Resource));
    expect(resources).toContain(`arn:aws:ecr:${REGION}:${ACCOUNT}:repository/shardline-flights-redis`);
    expect(resources).toContain(`arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/ecs/${APP}:*`);
    const statement = trustPolicy.Statement[0]!;
    expect(statement.Principal).toEqual({ Service: 'ecs-tasks.amazonaws.com' });
    expect(statement.Action).toBe('sts:AssumeRole');
    expect(statement.Condition?.StringEquals).toEqual({ 'aws:SourceAccount': ACCOUNT });
  });
});

describe('ECS task definition (deploy/ecs/task-definition.json)', () => {
  it('follows the RegisterTaskDefinition schema', () => {
    expect(errors(taskSchema, task)).toEqual([]);
  });

  it('the schema rejects a typo, a bad role ARN and a stop timeout Fargate refuses', () => {
    expect(errors(taskSchema, { ...task, famliy: 'x' })).not.toEqual([]);
    expect(errors(taskSchema, { ...task, taskRoleArn: 'flights-redis-task' })).not.toEqual([]);
    expect(errors(taskSchema, { ...task, containerDefinitions: [{ ...task.containerDefinitions[0], stopTimeout: 300 }] })).not.toEqual([]);
  });

  it('is a valid Fargate size, with an init process and time for the daemon to let the children checkpoint', () => {
    expect(task.requiresCompatibilities).toEqual(['FARGATE']);
    const fargateMemory: Record<string, [number, number]> = { '256': [512, 2048], '512': [1024, 4096], '1024': [2048, 8192], '2048': [4096, 16384], '4096': [8192, 30720] };
    const [low, high] = fargateMemory[task.cpu]!;
    expect(Number(task.memory)).toBeGreaterThanOrEqual(low);
    expect(Number(task.memory)).toBeLessThanOrEqual(high);
    const container = task.containerDefinitions[0]!;
    expect(container.linuxParameters?.initProcessEnabled).toBe(true);
    // The daemon gives children shutdownGraceMillis = 30 s (Dockerfile); ECS must wait longer before SIGKILL.
    expect(container.stopTimeout).toBeGreaterThan(30);
  });

  it('matches the IAM files and the Dockerfile: roles, repository, log group, region, no plaintext secret', () => {
    const container = task.containerDefinitions[0]!;
    expect(task.taskRoleArn).toBe(`arn:aws:iam::${ACCOUNT}:role/${APP}-task`);
    expect(task.executionRoleArn).toBe(`arn:aws:iam::${ACCOUNT}:role/${APP}-execution`);
    expect(container.image).toMatch(new RegExp(`^${ACCOUNT}\\.dkr\\.ecr\\.${REGION}\\.amazonaws\\.com/shardline-flights-redis:\\d+\\.\\d+\\.\\d+$`));
    expect(container.logConfiguration?.options?.['awslogs-group']).toBe(`/ecs/${APP}`);
    expect(container.logConfiguration?.options?.['awslogs-region']).toBe(REGION);
    const env = new Map((container.environment ?? []).map((e) => [e.name, e.value]));
    expect(env.get('AWS_REGION')).toBe(REGION);
    expect(env.get('FLIGHTS_REDIS_URL_SECRET')).toMatch(/^kms:/);
    for (const value of env.values()) expect(value).not.toMatch(/redis(s)?:\/\//);
    const dockerfile = readFileSync(join(ROOT, 'deploy', 'Dockerfile'), 'utf8');
    expect(dockerfile).toContain(`ARG FLIGHTS_STREAM=${STREAM}`);
    expect(dockerfile).toContain(`ARG FLIGHTS_APP=${APP}`);
    expect(dockerfile).toContain(`ARG AWS_REGION=${REGION}`);
  });
});
