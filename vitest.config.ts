import { defineConfig } from 'vitest/config';

// Unit tests sit beside the code and need no service; integration tests (test/, and the db encoder's test,
// which reads real PostgreSQL output) need PostgreSQL and Redis, which the global setup reaches or starts.
const needsServices = ['test/**/*.test.ts', 'db/src/select-json.test.ts'];

export default defineConfig({
  test: {
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two cores here; integration files share one PostgreSQL and one Redis.
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['{apps,adapters,core,db}/**/*.test.ts'],
          exclude: ['**/node_modules/**', ...needsServices],
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: needsServices,
          exclude: ['**/node_modules/**'],
          setupFiles: ['test/support/services.ts'],
        },
      },
    ],
  },
});
