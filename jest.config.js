/**
 * Jest configuration: unit tests run in isolation; integration tests share local servers started once; the chaos
 * suite (test/chaos) runs the built CLI under kill -9, SIGTERM, resharding and injected faults against the same servers.
 */
const { existsSync } = require('node:fs');
const path = require('node:path');

const harness = (name) => (existsSync(path.join(__dirname, 'test/harness', `${name}.ts`)) ? `<rootDir>/test/harness/${name}.ts` : undefined);
const transform = { '^.+\\.ts$': ['@swc/jest'] };
const common = {
  transform,
  testEnvironment: 'node',
  setupFiles: ['<rootDir>/test/setup.ts'],
  moduleFileExtensions: ['ts', 'js', 'json'],
  moduleNameMapper: { '^shardline$': '<rootDir>/src/index.ts', '^shardline/testing$': '<rootDir>/src/testing/index.ts' },
};

module.exports = {
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: [
        '<rootDir>/test/unit/**/*.spec.ts',
        '<rootDir>/examples/**/*.spec.ts',
        '<rootDir>/templates/init/test/**/*.spec.ts',
        '<rootDir>/test/chaos/**/*.unit.spec.ts',
      ],
      testPathIgnorePatterns: ['/node_modules/', '\\.int\\.spec\\.ts$'],
    },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.int.spec.ts', '<rootDir>/examples/**/*.int.spec.ts'],
      globalSetup: harness('global-setup'),
      globalTeardown: harness('global-teardown'),
      testTimeout: 120000,
    },
    {
      ...common,
      displayName: 'chaos',
      testMatch: ['<rootDir>/test/chaos/**/*.chaos.spec.ts'],
      globalSetup: harness('global-setup'),
      globalTeardown: harness('global-teardown'),
      testTimeout: 180000,
    },
  ],
};
