import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, openDatabase, selectJson, sql } from './index.js';

// The suite's PostgreSQL: TEST_DATABASE_URL, with test/support/env.ts's default (the database its global setup creates).
const testDatabaseUrl = () => process.env.TEST_DATABASE_URL ?? 'postgres://postgres:postgres@127.0.0.1:5432/comms_test';

// Every type the inbox tables use, with the values whose text output is easy to get wrong.
const VALUES = `
  select 7::integer as id, 9007199254740991::bigint as big, true as yes, false as no,
    'say "hi" \\ émoji 🌍 ' || chr(10) as text, null::text as nothing, 'tab' || chr(9) || chr(1) || 'bell' as control,
    '7f1c2a34-5b6d-4e8f-9a0b-1c2d3e4f5a6b'::uuid as uuid,
    '{"b": [1, 2.5, null], "a": "x"}'::jsonb as doc, '[]'::jsonb as empty,
    '2026-11-30 08:15:00+00'::timestamptz(3) as whole_second,
    '2026-11-30 08:15:00.1+00'::timestamptz(3) as tenth,
    '2026-11-30 08:15:00.12+00'::timestamptz(3) as hundredth,
    '2026-11-30 08:15:00.123+00'::timestamptz(3) as milli,
    '2026-11-30 08:15:00.123456+00'::timestamptz as micro,
    '1999-12-31 23:59:59.999-05'::timestamptz(3) as other_zone,
    '0044-03-15 12:00:00+00 BC'::timestamptz as before_christ, 'infinity'::timestamptz as forever`;

const EXPECTED = {
  id: 7,
  big: 9007199254740991,
  yes: true,
  no: false,
  text: 'say "hi" \\ émoji 🌍 \n',
  nothing: null,
  control: 'tab\t\u0001bell',
  uuid: '7f1c2a34-5b6d-4e8f-9a0b-1c2d3e4f5a6b',
  doc: { a: 'x', b: [1, 2.5, null] },
  empty: [],
  whole_second: '2026-11-30T08:15:00.000Z',
  tenth: '2026-11-30T08:15:00.100Z',
  hundredth: '2026-11-30T08:15:00.120Z',
  milli: '2026-11-30T08:15:00.123Z',
  micro: '2026-11-30T08:15:00.123Z',
  other_zone: '2000-01-01T04:59:59.999Z',
  before_christ: new Date(Date.UTC(-43, 2, 15, 12)).toISOString(),
  forever: 'infinity',
};

const source = (text: string) => ({ toSQL: () => ({ sql: text, params: [] }) });

describe.each([
  ['PostgreSQL', () => openDatabase({ url: testDatabaseUrl(), poolSize: 1 })],
  ['PGlite', () => openDatabase({ dataDir: 'memory://' })],
])('selectJson on %s', (_name, open) => {
  let database: Database;
  beforeAll(async () => {
    database = await open();
  });
  afterAll(async () => {
    await database?.close();
  });

  it('renders each row as the JSON a TypeScript view of it would be, with ISO timestamps in UTC', async () => {
    const set = await selectJson(database.db, source(VALUES));
    expect(set.rows).toHaveLength(1);
    expect(JSON.parse(set.rows[0]!)).toEqual(EXPECTED);
    expect(set.cell(0, 'milli')).toBe('2026-11-30T08:15:00.123Z');
    expect(set.cell(0, 'id')).toBe(7);
    expect(() => set.cell(0, 'missing')).toThrow('no column missing');
  });

  it('gives the same timestamps whatever time zone the session runs in', async () => {
    // One pooled connection: the session setting applies to the select that follows.
    await database.db.execute(sql`set timezone = 'America/Sao_Paulo'`);
    try {
      const set = await selectJson(database.db, source(VALUES));
      expect(JSON.parse(set.rows[0]!)).toEqual(EXPECTED);
    } finally {
      await database.db.execute(sql`set timezone = 'UTC'`);
    }
  });

  it('passes parameters and renders no rows as an empty list', async () => {
    const query = {
      toSQL: () => ({ sql: 'select g as n from generate_series(1, $1::int) g where g > $2', params: [3, 1] }),
    };
    expect((await selectJson(database.db, query)).rows).toEqual(['{"n":2}', '{"n":3}']);
    const none = { toSQL: () => ({ sql: 'select 1 as n where $1::boolean', params: [false] }) };
    expect((await selectJson(database.db, none)).rows).toEqual([]);
  });
});
