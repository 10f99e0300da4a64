/** Where the tests find PostgreSQL and Redis (DESIGN §3: override with TEST_DATABASE_URL, REDIS_URL). */
import pg from 'pg';

export function testDatabaseUrl(): string {
  return process.env.TEST_DATABASE_URL ?? 'postgres://postgres:postgres@127.0.0.1:5432/comms_test';
}

export function testRedisUrl(): string {
  return process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
}

/** The JWT secret every test runtime signs and checks tokens with. */
export const TEST_JWT_SECRET = 'test-secret-0123456789-abcdefghijkl';

/** The environment variable through which the global setup tells the test files what it could not start. */
export const MISSING_SERVICES = 'COMMS_TEST_MISSING_SERVICES';

let counter = 0;
/** A tenant slug no other test (or earlier run) uses. */
export function uniqueSlug(prefix = 't'): string {
  counter += 1;
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter}`.slice(0, 41);
}

/** A client on the test database, for the rows a test reads or plays directly; the caller ends it. */
export async function connectTestDb(): Promise<pg.Client> {
  const db = new pg.Client({ connectionString: testDatabaseUrl() });
  await db.connect();
  return db;
}
