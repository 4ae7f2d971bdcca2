/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/packages/proxy/test', '<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/test/tsconfig.json' }],
  },
  moduleNameMapper: {
    '^@switchboard/proxy$': '<rootDir>/packages/proxy/src/index.ts',
    '^@switchboard/proxy/fastify$': '<rootDir>/packages/proxy/src/adapters/fastify.ts',
  },
  testTimeout: 30000,
  // Integration tests open real sockets; run files in parallel on our 2 cores.
  maxWorkers: 2,
};
