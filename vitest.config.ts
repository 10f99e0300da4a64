import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['{apps,adapters,core,db,test}/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    exclude: ['**/node_modules/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two cores here; integration files share one PostgreSQL and one Redis.
    maxWorkers: 2,
  },
});
