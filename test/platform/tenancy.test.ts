import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabaseUrl, uniqueSlug } from '../support/env.js';
import { api, type Harness, startApi } from '../support/harness.js';

let h: Harness;
let db: pg.Client;
beforeAll(async () => {
  h = await startApi();
  db = new pg.Client({ connectionString: testDatabaseUrl() });
  await db.connect();
});
afterAll(async () => {
  await db.end();
  await h.close();
});

describe('tenant provisioning', () => {
  it('creates the schema with every table and records its migrations', async () => {
    const slug = uniqueSlug('prov');
    const res = await h.request('POST', '/api/v1/tenants', { body: { slug, name: 'Acme Travel' } });
    expect(res.status).toBe(201);
    const schema = `tenant_${slug.replaceAll('-', '_')}`;
    expect(res.body).toMatchObject({ slug, schema, name: 'Acme Travel', status: 'active' });
    const tables = await db.query(
      'select table_name from information_schema.tables where table_schema = $1 order by 1',
      [schema],
    );
    expect(tables.rows.map((r) => r.table_name)).toEqual([
      'channel_accounts',
      'channel_members',
      'channels',
      'chat_entries',
      'chat_entry_edits',
      'chat_reactions',
      'inbox_conversations',
      'inbox_messages',
      'inbox_quick_replies',
      'media',
      'mentions',
      'schema_migrations',
      'webhook_deliveries',
      'webhook_delivery_attempts',
      'webhook_endpoints',
      'webhook_events',
    ]);
    const migrations = await db.query(`select name from "${schema}".schema_migrations order by name`);
    expect(migrations.rows.map((r) => r.name)).toEqual([
      '0000_init',
      '0001_ingest_function',
      '0002_channel_account_sandbox',
      '0003_ses_transport',
      '0004_media',
      '0005_webhooks',
      '0006_webhook_batches',
    ]);
    // The functions are the tenant's own: schema-qualified, nothing in public.
    const functions = await db.query(
      `select routine_schema, routine_name from information_schema.routines where routine_name in ('ingest_webhook', 'reopen_conversation') and routine_schema in ($1, 'public') order by 2`,
      [schema],
    );
    expect(functions.rows).toEqual([
      { routine_schema: schema, routine_name: 'ingest_webhook' },
      { routine_schema: schema, routine_name: 'reopen_conversation' },
    ]);
  });

  it('answers 409 for an existing slug and 400 for a bad slug', async () => {
    const slug = await h.createTenant('dup');
    const again = await h.request('POST', '/api/v1/tenants', { body: { slug, name: 'Again' } });
    expect(again.status).toBe(409);
    expect(again.headers.get('content-type')).toContain('application/problem+json');
    for (const bad of ['A', 'x', '-abc', 'has_underscore', "a'; drop schema public cascade; --", 'UPPER']) {
      const res = await h.request('POST', '/api/v1/tenants', { body: { slug: bad, name: 'Bad' } });
      expect(res.status, bad).toBe(400);
      expect(res.body.errors[0].field).toBe('slug');
    }
  });

  it('migrates several tenants idempotently', async () => {
    const { migrateAllTenants } = await import('@comms/db');
    const a = await h.createTenant('mig');
    const b = await h.createTenant('mig');
    const results = await migrateAllTenants(h.runtime.database.db);
    const ours = results.filter(
      (r) => r.schema.endsWith(a.replaceAll('-', '_')) || r.schema.endsWith(b.replaceAll('-', '_')),
    );
    expect(ours).toHaveLength(2);
    expect(ours.every((r) => r.applied.length === 0)).toBe(true);
  });

  it('only service tokens and super admins create tenants', async () => {
    const slug = await h.createTenant('perm');
    const admin = await h.token({ tenant: slug, role: 'tenant_admin' });
    const res = await h.request('POST', '/api/v1/tenants', {
      token: admin,
      body: { slug: uniqueSlug('x'), name: 'No' },
    });
    expect(res.status).toBe(403);
  });

  it('DELETE stops serving the tenant and keeps its schema; purge drops it', async () => {
    const slug = await h.createTenant('del');
    const schema = `tenant_${slug.replaceAll('-', '_')}`;
    expect((await h.request('DELETE', `/api/v1/tenants/${slug}`)).status).toBe(204);
    expect((await h.request('GET', api(slug, '/conversations'))).status).toBe(404);
    expect(
      (await db.query('select 1 from information_schema.schemata where schema_name = $1', [schema])).rowCount,
    ).toBe(1);
    expect((await h.request('DELETE', `/api/v1/tenants/${slug}?purge=true`)).status).toBe(204);
    expect(
      (await db.query('select 1 from information_schema.schemata where schema_name = $1', [schema])).rowCount,
    ).toBe(0);
    expect((await h.request('GET', `/api/v1/tenants/${slug}`)).status).toBe(404);
  });

  it('re-creating a deleted tenant says what became of it; restore serves it again with its data, purge frees the slug', async () => {
    const slug = await h.createTenant('again');
    const made = await h.request('POST', api(slug, '/conversations'), {
      body: { channel: 'sms', contact_identifier: '+15550002222' },
    });
    expect(made.status).toBe(201);
    expect((await h.request('DELETE', `/api/v1/tenants/${slug}`)).status).toBe(204);
    const again = await h.request('POST', '/api/v1/tenants', { body: { slug, name: 'Again' } });
    expect(again.status).toBe(409);
    expect(again.body.detail).toContain('was deleted');
    expect(again.body.detail).toContain(`POST /api/v1/tenants/${slug}/restore`);
    expect(again.body.detail).toContain('purge=true');

    const restored = await h.request('POST', `/api/v1/tenants/${slug}/restore`);
    expect(restored.status).toBe(200);
    expect(restored.body).toMatchObject({ slug, status: 'active', deleted_at: null });
    const kept = await h.request('GET', api(slug, `/conversations/${made.body.id}`));
    expect(kept.status).toBe(200);
    expect((await h.request('POST', `/api/v1/tenants/${slug}/restore`)).status).toBe(404);

    expect((await h.request('DELETE', `/api/v1/tenants/${slug}?purge=true`)).status).toBe(204);
    expect((await h.request('POST', '/api/v1/tenants', { body: { slug, name: 'Again' } })).status).toBe(201);
  });
});

describe('auth', () => {
  it('401 with WWW-Authenticate for missing, malformed, forged and expired tokens', async () => {
    const slug = await h.createTenant('auth');
    const { signToken } = await import('@comms/core/platform');
    const forged = await signToken('another-secret-0123456789abcdef', {
      sub: randomUUID(),
      tenant_slug: slug,
      role: 'tenant_admin',
    });
    const expired = await signToken(
      'test-secret-0123456789-abcdefghijkl',
      { sub: randomUUID(), tenant_slug: slug, role: 'tenant_admin' },
      Math.floor(Date.now() / 1000) - 60,
    );
    for (const [name, token] of [
      ['missing', null],
      ['malformed', 'not.a.jwt'],
      ['forged', forged],
      ['expired', expired],
    ] as const) {
      const res = await h.request('GET', api(slug, '/conversations'), { token });
      expect(res.status, name).toBe(401);
      expect(res.headers.get('www-authenticate'), name).toMatch(/^Bearer/);
      expect(res.body.detail, name).toBeTruthy();
    }
    const res = await h.request('GET', api(slug, '/conversations'), { token: expired });
    expect(res.body.detail).toMatch(/expired/);
  });

  it('403 for a token of another tenant, 404 for an unknown tenant', async () => {
    const a = await h.createTenant('iso-a');
    const b = await h.createTenant('iso-b');
    const tokenA = await h.token({ tenant: a, role: 'tenant_admin' });
    expect((await h.request('GET', api(b, '/conversations'), { token: tokenA })).status).toBe(403);
    expect((await h.request('GET', api('no-such-tenant-here', '/conversations'))).status).toBe(404);
    // A slug with SQL in it is refused before any SQL runs.
    const evil = encodeURIComponent(`x"; drop table public.tenants; --`);
    expect((await h.request('GET', `/api/v1/tenants/${evil}/communications/conversations`)).status).toBe(404);
    expect((await db.query('select count(*)::int as n from public.tenants')).rows[0].n).toBeGreaterThan(0);
  });
});
