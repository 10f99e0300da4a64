// The integration tests' guard: when `npm test` could neither reach nor start PostgreSQL or Redis (global-setup.ts
// says which, with the command that installs it), every file that needs them fails at once with that line
// instead of a raw ECONNREFUSED; the unit tests beside the code run anyway.
import { beforeAll } from 'vitest';
import { MISSING_SERVICES } from './env.js';

const missing = process.env[MISSING_SERVICES];
if (missing) {
  beforeAll(() => {
    throw new Error(`this test needs services that are not available:\n${missing}`);
  });
}
