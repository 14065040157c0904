/* shardline/testing: run consumers in unit tests with an in-memory source and mocked injection. */
import 'reflect-metadata';
export { createTestApp, type TestApp, type TestAppOptions } from './test-app';
export { InMemoryRecordSource, SHARD_END, type RecordInput } from '../adapters/memory/in-memory-record-source';
export { clearSecretCache } from '../core/secret-resolver';
export { secretMask } from '../core/secret-mask';
export {
  describeRecordSourceContract,
  type RecordSourceHarness,
  type RecordSourceCapability,
  type RecordSourceContractOptions,
  type RecordSourceContractCase,
} from './record-source-contract';
export { ContractReader, type ContractEventHandler } from './contract-reader';
