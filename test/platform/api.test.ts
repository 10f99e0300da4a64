// The API's platform endpoints and what every request gets: health, readiness, metrics, OpenAPI (every chat route
// documented too) and the docs pages, x-request-id, one log line per request, 413 and a problem for an unknown route.
import { Writable } from 'node:stream';
import { createLogger } from '@comms/core/platform';
import { beforeAll, describe, expect, it } from 'vitest';
import { api, startApi } from '../support/harness.js';
import { agent, h, newConversation, t, useInboxApi } from '../support/inbox-api.js';

useInboxApi();
// Two conversations, so the lists the requests below read are pages of rows.
beforeAll(async () => {
  await newConversation();
  await newConversation();
});

describe('OpenAPI', () => {
  it('documents every chat route with an operationId, its bodies, and problem responses', async () => {
    const doc = await h.request('GET', '/openapi.json', { token: null });
    expect(doc.status).toBe(200);
    const chat = Object.entries(doc.body.paths as Record<string, Record<string, any>>).filter(([path]) =>
      /\/communications\/(channels|chat)\b/.test(path),
    );
    const operations = chat.flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ path, method, op })));
    expect(operations.map((o) => o.op.operationId).sort()).toEqual(
      [
        'addChannelMember',
        'addChatReaction',
        'createChannel',
        'deleteChannel',
        'deleteChatMessage',
        'editChatMessage',
        'getChannel',
        'listChannelMembers',
        'listChannels',
        'listChatMessageEdits',
        'listChatMessages',
        'markChatChannelRead',
        'pinChatMessage',
        'postChatMessage',
        'removeChannelMember',
        'removeChatReaction',
        'sendChatTyping',
        'updateChannel',
        'updateChannelMember',
      ].sort(),
    );
    for (const { path, method, op } of operations) {
      for (const status of ['400', '401', '403', '404'])
        expect(
          op.responses[status]?.content?.['application/problem+json'],
          `${method} ${path} ${status}`,
        ).toBeDefined();
      if (['post', 'put'].includes(method) && !path.endsWith('/typing'))
        expect(op.requestBody?.content?.['application/json']?.schema, `${method} ${path}`).toBeDefined();
    }
  });
});

describe('platform endpoints', () => {
  it('serves health, readiness, metrics, OpenAPI and the docs pages without a CDN', async () => {
    expect((await h.request('GET', '/health', { token: null })).body).toEqual({ status: 'ok' });
    const ready = await h.request('GET', '/ready', { token: null });
    expect(ready.status).toBe(200);
    expect(ready.body.checks.database).toBe('ok');
    const spec = await h.request('GET', '/openapi.json', { token: null });
    expect(spec.body.openapi).toMatch(/^3\./);
    const ops = Object.values(
      spec.body.paths as Record<string, Record<string, { operationId?: string; responses: object }>>,
    ).flatMap((p) => Object.values(p));
    expect(ops.length).toBeGreaterThan(20);
    for (const op of ops) expect(op.operationId).toBeTruthy();
    // A nullable reference written as allOf [ref, object|null] admits no null at all (QuickReplyUse.message said
    // so until the fuzzer's response check caught it): nullable references are anyOf [ref, null].
    expect(JSON.stringify(spec.body)).not.toMatch(/"allOf":\[\{"\$ref":"[^"]+"\},\{"type":\[[^\]]*"null"/);
    expect(spec.body.components.schemas.QuickReplyUse.properties.message.anyOf).toContainEqual({ type: 'null' });
    expect(
      spec.body.paths['/api/v1/tenants/{tenant}/communications/conversations'].get.parameters.map(
        (p: { name: string }) => p.name,
      ),
    ).toEqual(
      expect.arrayContaining([
        'status',
        'channel',
        'priority',
        'assigned_to',
        'is_lead',
        'is_spam',
        'unread',
        'q',
        'limit',
        'cursor',
      ]),
    );
    for (const page of ['/docs', '/redoc']) {
      const html = await h.request('GET', page, { token: null });
      expect(html.status).toBe(200);
      expect(html.text).not.toMatch(/https?:\/\/(cdn|unpkg|jsdelivr)/);
      for (const src of html.text.matchAll(/(?:src|href)="(\/docs\/assets\/[^"]+)"/g)) {
        const asset = await fetch(h.url + src[1]);
        expect(asset.status, src[1]).toBe(200);
        expect((await asset.arrayBuffer()).byteLength).toBeGreaterThan(10_000);
      }
    }
    await h.request('GET', api(t, '/conversations'), { token: agent });
    const metrics = await h.request('GET', '/metrics', { token: null });
    expect(metrics.text).toMatch(
      /http_requests_total\{method="GET",route="\/api\/v1\/tenants\/:tenant\/communications\/conversations",status="200"\} \d+/,
    );
    expect(metrics.text).toContain('http_request_duration_seconds_bucket');
    expect(metrics.text).not.toContain(t);
  });

  it("answers every request with an x-request-id: the caller's when well-formed, else a new one", async () => {
    const kinds = [
      ['GET', api(t, '/conversations?limit=2')], // a page assembled from pre-rendered rows (JsonPage)
      ['GET', '/health'], // c.json
      ['GET', api(t, '/conversations/999999999')], // a problem
      ['HEAD', api(t, '/conversations?limit=2')], // Hono answers HEAD with a copy of the GET response
    ] as const;
    for (const [method, path] of kinds) {
      const echoed = await h.request(method, path, { token: agent, headers: { 'x-request-id': 'trace.abc-123' } });
      expect(echoed.headers.get('x-request-id'), path).toBe('trace.abc-123');
      const fresh = await h.request(method, path, { token: agent, headers: { 'x-request-id': 'bad id!' } });
      expect(fresh.headers.get('x-request-id'), path).toMatch(/^[0-9a-f-]{36}$/);
    }
    const page = await h.request('GET', api(t, '/conversations?limit=2'), { token: agent });
    expect(page.headers.get('content-length')).toBe(String(Buffer.byteLength(page.text)));
    expect(Array.isArray(page.body.data)).toBe(true);
  });

  it('logs one line per request: id, method, route template, status and duration; no token, body or contact', async () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk, _encoding, done) {
        lines.push(...String(chunk).split('\n').filter(Boolean));
        done();
      },
    });
    const logged = await startApi({
      logRequests: true,
      realtime: false,
      overrides: { log: createLogger({ level: 'info', destination }) },
    });
    try {
      const slug = await logged.createTenant('logs');
      const token = await logged.token({ tenant: slug, role: 'tenant_user' });
      const phone = '+15559876543';
      const created = await logged.request('POST', api(slug, '/conversations'), {
        token,
        headers: { 'x-request-id': 'log-check-1' },
        body: { channel: 'sms', contact_identifier: phone, contact_name: 'Secret Name' },
      });
      expect(created.status).toBe(201);
      const got = await logged.request('GET', api(slug, `/conversations/${created.body.id}`), { token });
      const missing = await logged.request('GET', api(slug, '/conversations/999999999'), { token });
      expect(missing.status).toBe(404);
      // pino writes asynchronously: wait for the four request lines (the tenant creation too) to arrive.
      const requests = () => lines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'request');
      for (let i = 0; i < 50 && requests().length < 4; i++) await new Promise((r) => setTimeout(r, 20));
      const byId = new Map(requests().map((l) => [l.request_id, l]));
      const route = '/api/v1/tenants/:tenant/communications/conversations';
      expect(byId.get('log-check-1')).toMatchObject({ method: 'POST', route, status: 201, level: 30 });
      expect(byId.get(got.headers.get('x-request-id'))).toMatchObject({
        method: 'GET',
        route: `${route}/:id`,
        status: 200,
      });
      expect(byId.get(missing.headers.get('x-request-id'))).toMatchObject({ status: 404 });
      expect(typeof byId.get('log-check-1').duration_ms).toBe('number');
      const all = lines.join('\n');
      for (const secret of [token, phone, 'Secret Name']) expect(all).not.toContain(secret);
    } finally {
      await logged.close();
    }
  });

  it('answers 413 for an oversized body and 404 problem for an unknown route', async () => {
    const big = 'x'.repeat(1024 * 1024 + 10);
    const res = await h.request('POST', api(t, '/conversations'), {
      token: agent,
      body: JSON.stringify({ channel: 'sms', contact_identifier: big }),
    });
    expect(res.status).toBe(413);
    const nf = await h.request('GET', '/nope', { token: null });
    expect(nf.status).toBe(404);
    expect(nf.headers.get('content-type')).toContain('application/problem+json');
  });
});
