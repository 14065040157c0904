/** Jest configuration: unit tests run in isolation; integration tests share local servers started once. */
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
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.spec.ts', '<rootDir>/examples/**/*.spec.ts'] },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.int.spec.ts', '<rootDir>/examples/**/*.int.spec.ts'],
      globalSetup: '<rootDir>/test/harness/global-setup.ts',
      globalTeardown: '<rootDir>/test/harness/global-teardown.ts',
      testTimeout: 120000,
    },
  ],
};
