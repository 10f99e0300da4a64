// Schema-driven fuzzing of the REST API (issue 17): for every operation of /openapi.json, requests generated
// from its own schemas and mutations of them (wrong types, missing and unknown fields, over-long strings, bad
// ids and cursors, every filter, too-deep JSON, no token). Properties: never a 5xx; every 4xx is problem+json
// of the documented shape and changes no row; every 2xx is documented and matches its schema.
// `npm test` runs a fixed seed; `npm run fuzz -- --runs N [--seed S]` runs longer and prints a failure's seed.
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import fc from 'fast-check';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabaseUrl } from '../support/env.js';
import { type Harness, startApi } from '../support/harness.js';
import { fuzzOptions } from './options.js';
import { anyJson, badNumberText, type Components, type JsonSchema, mutated, valid } from './schema-arbitraries.js';

type Operation = {
  operationId: string;
  parameters?: { name: string; in: 'path' | 'query'; schema: JsonSchema }[];
  requestBody?: { content: Record<string, { schema: JsonSchema }> };
  responses: Record<string, { content?: Record<string, { schema: JsonSchema }> }>;
};
type Doc = { paths: Record<string, Record<string, Operation>>; components: { schemas: Components } };

// Started at module load, so that every operation of the served document is a test of its own.
const h: Harness = await startApi();
const doc = (await (await fetch(`${h.url}/openapi.json`)).json()) as Doc;
const OPERATIONS = Object.entries(doc.paths).flatMap(([path, ops]) =>
  Object.keys(ops).map((method) => ({ method: method.toUpperCase(), path })),
);

let tenant: string;
let adminToken: string;
let userToken: string;
let adminSub: string;
let db: pg.Client;
let checksumSql: string;
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);

beforeAll(async () => {
  ajv.addSchema({ $id: 'api', components: doc.components });
  tenant = await h.createTenant('fuzz');
  adminSub = crypto.randomUUID();
  adminToken = await h.token({ tenant, role: 'tenant_admin', sub: adminSub });
  userToken = await h.token({ tenant, role: 'tenant_user' });
  await seed();
  db = new pg.Client({ connectionString: testDatabaseUrl() });
  await db.connect();
  const schema = `tenant_${tenant.replaceAll('-', '_')}`;
  const { rows } = await db.query<{ table_name: string }>(
    `select table_name from information_schema.tables where table_schema = $1 and table_type = 'BASE TABLE' order by 1`,
    [schema],
  );
  // The fuzz tenant's tables, and the registry rows of the tenants the fuzzer names (other test files create
  // tenants of their own meanwhile).
  const tables = rows.map((r) => `"${schema}"."${r.table_name}" x`);
  tables.push(`public.tenants x where x.slug like 'fz-%' or x.slug = '${tenant}'`);
  checksumSql = `select ${tables
    .map((t) => `(select coalesce(md5(string_agg(x::text, '|' order by x::text)), '') from ${t})`)
    .join(' || ')} as sum`;
});

afterAll(async () => {
  await db?.end();
  await h.close();
});

/** A few rows of each resource, so that generated ids 1–6 often name something that exists. */
async function seed() {
  const as = { token: adminToken };
  const api = (path: string) => `/api/v1/tenants/${tenant}/communications${path}`;
  for (let i = 0; i < 3; i++) {
    await h.request('POST', api('/conversations'), {
      ...as,
      body: { channel: 'sms', contact_identifier: `+1555000000${i}`, contact_name: `Seed ${i}` },
    });
    await h.request('POST', api('/quick-replies'), {
      ...as,
      body: { title: `Seed ${i}`, content: 'Hi {{contact_name}}' },
    });
    await h.request('POST', api('/channel-accounts'), {
      ...as,
      body: { provider: 'sms', name: `Seed ${i}`, identifier: `+1555100000${i}`, credentials: { auth_token: 'x' } },
    });
    const channel = await h.request('POST', api('/channels'), { ...as, body: { name: `seed-${i}`, type: 'public' } });
    await h.request('POST', api(`/chat/channels/${channel.body.id}/messages`), { ...as, body: { content: 'seed' } });
  }
  await h.request('POST', api('/messages'), { ...as, body: { conversation_id: 1, content: 'seed reply' } });
}

interface FuzzRequest {
  path: string;
  query: [string, string][];
  body?: string;
  contentType?: string;
  token: 'admin' | 'user' | 'none';
}

const tenantSlug = () =>
  fc.oneof(
    { weight: 8, arbitrary: fc.constant(tenant) },
    { weight: 1, arbitrary: fc.constantFrom('nosuch-tenant', 'UPPER', 'a', '..', 'x'.repeat(60), '%00', 'ünï') },
  );

function paramValue(name: string, schema: JsonSchema, isTenantAdmin: boolean): fc.Arbitrary<string> {
  if (name === 'tenant')
    // Tenant administration gets names of its own: it must never delete the tenant the run works in.
    return isTenantAdmin
      ? fc.oneof(
          fc.stringMatching(/^[a-z0-9][a-z0-9-]{1,12}$/).map((s) => `fz-${s}`),
          fc.constantFrom('Bad', 'x'),
        )
      : tenantSlug();
  if (name === 'id')
    return fc.oneof(
      { weight: 6, arbitrary: fc.integer({ min: 1, max: 6 }).map(String) },
      { weight: 2, arbitrary: badNumberText },
    );
  if (name === 'user_id') return fc.oneof(fc.constant(adminSub), fc.uuid(), fc.string({ maxLength: 40 }));
  if (name === 'emoji') return fc.oneof(fc.constantFrom('👍', '🎉', '%F0%9F%91%8D'), fc.string({ maxLength: 70 }));
  return fc.oneof(valid(schema, doc.components).map(String), fc.string({ maxLength: 30 }), badNumberText);
}

function requestFor(path: string, op: Operation): fc.Arbitrary<FuzzRequest> {
  const isTenantAdmin = path.startsWith('/api/v1/tenants') && !path.includes('/communications');
  const pathParams: Record<string, fc.Arbitrary<string>> = {};
  const queryParams: Record<string, fc.Arbitrary<string[]>> = {};
  for (const p of op.parameters ?? []) {
    if (p.in === 'path') pathParams[p.name] = paramValue(p.name, p.schema, isTenantAdmin);
    if (p.in === 'query') {
      const one =
        p.name === 'cursor'
          ? fc.oneof(fc.base64String({ maxLength: 40 }), fc.string({ maxLength: 20 }))
          : fc.oneof(
              { weight: 3, arbitrary: valid(p.schema, doc.components).map(String) },
              { weight: 1, arbitrary: fc.string({ maxLength: 30 }) },
              { weight: 1, arbitrary: badNumberText },
            );
      // Usually absent or once; sometimes repeated, which single-valued parameters refuse.
      queryParams[p.name] = fc.oneof(
        { weight: 3, arbitrary: fc.constant<string[]>([]) },
        { weight: 3, arbitrary: one.map((v) => [v]) },
        { weight: 1, arbitrary: fc.array(one, { minLength: 2, maxLength: 2 }) },
      );
    }
  }
  const schema = op.requestBody?.content['application/json']?.schema;
  const body: fc.Arbitrary<{ body?: string; contentType?: string }> = schema
    ? fc.oneof(
        { weight: 2, arbitrary: valid(schema, doc.components).map((v) => ({ body: JSON.stringify(v) })) },
        { weight: 3, arbitrary: mutated(schema, doc.components).map((v) => ({ body: JSON.stringify(v) })) },
        {
          weight: 1,
          arbitrary: fc.constantFrom(
            { body: '{' },
            { body: '' },
            { body: 'null' },
            { body: '{"a":1}', contentType: 'text/plain' },
            { body: '\u0000' },
          ),
        },
      )
    : fc.oneof(
        { weight: 4, arbitrary: fc.constant({}) },
        { weight: 1, arbitrary: anyJson.map((v) => ({ body: JSON.stringify(v) ?? 'null' })) },
      );
  return fc
    .record({
      params: fc.record(pathParams),
      query: fc.record(queryParams),
      body,
      token: fc.constantFrom<FuzzRequest['token']>('admin', 'admin', 'admin', 'admin', 'user', 'none'),
    })
    .map(({ params, query, body, token }) => ({
      path: path
        .replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(params[name] ?? ''))
        .replace(/%25/g, '%'),
      query: Object.entries(query).flatMap(([k, vs]) => vs.map((v) => [k, v] as [string, string])),
      ...body,
      token: isTenantAdmin && token === 'admin' ? ('service' as never) : token,
    }));
}

async function send(method: string, req: FuzzRequest) {
  const url = new URL(h.url + req.path);
  for (const [k, v] of req.query) url.searchParams.append(k, v);
  const headers: Record<string, string> = {};
  const token = { admin: adminToken, user: userToken, none: null, service: h.serviceToken }[req.token as string];
  if (token) headers.authorization = `Bearer ${token}`;
  if (req.body !== undefined) headers['content-type'] = req.contentType ?? 'application/json';
  const res = await fetch(url, { method, headers, body: method === 'GET' ? undefined : req.body });
  const text = await res.text();
  return { status: res.status, type: res.headers.get('content-type') ?? '', text };
}

const checksum = async () => (await db.query<{ sum: string }>(checksumSql)).rows[0]!.sum;

describe('the API under generated requests', () => {
  it.each(OPERATIONS)('$method $path', async ({ method, path }) => {
    const op = doc.paths[path]![method.toLowerCase()]!;
    await fc.assert(
      fc.asyncProperty(requestFor(path, op), async (req) => {
        const before = method === 'GET' ? null : await checksum();
        const res = await send(method, req);
        const what = `${method} ${req.path}?${new URLSearchParams(req.query)} (${req.token}) ${req.body?.slice(0, 300) ?? ''} → ${res.status} ${res.text.slice(0, 300)}`;
        expect(res.status, what).toBeLessThan(500);
        if (res.status >= 400) {
          expect(res.type, what).toMatch(/^application\/problem\+json/);
          const problem = JSON.parse(res.text);
          expect(
            ajv.validate({ $ref: 'api#/components/schemas/Problem' }, problem),
            `${what}\n${ajv.errorsText()}`,
          ).toBe(true);
          expect(problem.status, what).toBe(res.status);
          if (before !== null) expect(await checksum(), `${what}: a refused request changed rows`).toBe(before);
          return;
        }
        const documented = op.responses[String(res.status)];
        expect(documented, `${what}: status not documented`).toBeDefined();
        const schema = documented!.content?.['application/json']?.schema;
        if (schema && res.text) {
          expect(ajv.validate(withRefs(schema), JSON.parse(res.text)), `${what}\n${ajv.errorsText()}`).toBe(true);
        }
      }),
      fuzzOptions(OPERATIONS.findIndex((o) => o.method === method && o.path === path)),
    );
  });
});

/** A response schema whose component references resolve against the document loaded into ajv. */
function withRefs(schema: JsonSchema): object {
  return JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"api#/components/'));
}
