// Two projects: pure unit specs beside the code, and integration tests that run serially
// against the real PostgreSQL and the dev Kafka broker. ESM because NestJS 12 ships ESM only.
const common = {
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }],
  },
  testEnvironment: 'node',
};
// The chaos suite (test/chaos, `npm run test:chaos`) kills processes and owns a PostgreSQL
// cluster: it is defined only when asked for by name (`--selectProjects chaos`) or by path, so
// a plain `npm test` never runs it.
const chaosAsked = process.argv.some((a) => a === 'chaos' || a.includes('test/chaos'));
export default {
  // Integration tests migrate real databases and start real processes: seconds, not milliseconds,
  // on a busy machine (a test that needs longer sets its own). Set here, not per project: Jest
  // reads testTimeout from the global config only (a project's own was ignored: hooks timed out
  // at the 5 s default under load).
  testTimeout: 60_000,
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/tools/**/*.spec.ts'] },
    { ...common, displayName: 'integration', testMatch: ['<rootDir>/test/integration/**/*.test.ts'] },
    ...(chaosAsked ? [{ ...common, displayName: 'chaos', testMatch: ['<rootDir>/test/chaos/**/*.test.ts'] }] : []),
  ],
};
