// What users of an HTTP API expect of every route, API and gateway alike (issue 21): 405 with Allow, strict
// numbers, public URLs only, reason-phrase titles, one nesting limit for JSON, the HTTP parser's refusals as
// problem+json, request and header timeouts answered 408, and a request id on every answer.
import { connect } from 'node:net';
import { Writable } from 'node:stream';
import { createApiApp } from '@comms/api';
import { createLogger } from '@comms/core/platform';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../support/harness.js';
import { type Stack, startStack } from '../support/stack.js';

let h: Stack;
let tenant: string;
let admin: string;
let conversationId: number;

beforeAll(async () => {
  h = await startStack({
    env: { REQUEST_TIMEOUT_MS: '1500', HEADERS_TIMEOUT_MS: '1000', WEBHOOK_BODY_LIMIT: '1048576' },
  });
  tenant = await h.createTenant('http');
  admin = await h.token({ tenant, role: 'tenant_admin' });
  const res = await h.request('POST', api(tenant, '/conversations'), {
    token: admin,
    body: { channel: 'whatsapp', contact_identifier: '5511999990001', contact_name: 'Ana' },
  });
  expect(res.status).toBe(201);
  conversationId = res.body.id;
});
afterAll(() => h.close());

/** Sends raw bytes and reads whatever comes back until the server closes or `ms` pass. */
function raw(bytes: string, ms = 6_000): Promise<{ text: string; elapsedMs: number }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const socket = connect(h.server.port, '127.0.0.1');
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (d) => (text += d));
    socket.on('close', () => resolve({ text, elapsedMs: Date.now() - started }));
    socket.on('error', reject);
    socket.setTimeout(ms, () => socket.destroy());
    socket.write(bytes);
  });
}

function problemOf(response: string): { status: number; type: string; body: any } {
  const [head = '', body = ''] = response.split('\r\n\r\n');
  const status = Number(head.split(' ')[1]);
  const type = /content-type: ([^\r\n]+)/i.exec(head)?.[1] ?? '';
  return { status, type, body: body ? JSON.parse(body) : null };
}

describe('methods', () => {
  it('answers 405 with Allow for a path that exists with other methods, on the API and the gateway', async () => {
    const patch = await h.request('PATCH', api(tenant, `/conversations/${conversationId}`), { token: admin });
    expect(patch.status).toBe(405);
    expect(patch.headers.get('allow')).toBe('DELETE, GET, HEAD, PUT');
    expect(patch.headers.get('content-type')).toBe('application/problem+json');
    expect(patch.body).toMatchObject({ status: 405, title: 'Method Not Allowed' });
    expect(patch.body.detail).toContain('PATCH');

    const get = await fetch(`${h.url}/webhooks/${tenant}/twilio`);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    const put = await fetch(`${h.url}/webhooks/${tenant}/whatsapp`, { method: 'PUT' });
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toBe('GET, HEAD, POST');

    // A path that does not exist at all is still a 404.
    expect((await h.request('GET', api(tenant, '/nothing-here'), { token: admin })).status).toBe(404);
    expect((await fetch(`${h.url}/webhooks/${tenant}/nothing`, { method: 'POST' })).status).toBe(404);
  });
});

describe('numbers in paths and queries', () => {
  it('takes ids and limits in decimal digits only', async () => {
    for (const id of ['0x10', '1e3', '+1', '1.0', ' 1']) {
      const res = await h.request('GET', api(tenant, `/conversations/${encodeURIComponent(id)}`), { token: admin });
      expect(res.status, id).toBe(400);
      expect(res.body.errors[0]).toMatchObject({ field: 'path.id' });
    }
    for (const limit of ['1e1', '0x5', '5.0', '-1']) {
      const res = await h.request('GET', api(tenant, `/conversations?limit=${limit}`), { token: admin });
      expect(res.status, limit).toBe(400);
      expect(res.body.errors[0]).toMatchObject({ field: 'query.limit' });
    }
    const ok = await h.request('GET', api(tenant, `/conversations/${conversationId}`), { token: admin });
    expect(ok.status).toBe(200);
    expect((await h.request('GET', api(tenant, '/conversations?limit=5'), { token: admin })).status).toBe(200);
  });

  it('refuses a repeated single-valued parameter, naming it', async () => {
    const res = await h.request('GET', api(tenant, '/conversations?limit=10&limit=20'), { token: admin });
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([{ field: 'query.limit', message: 'given more than once; it takes one value' }]);
  });
});

describe('URLs', () => {
  it('takes absolute https: URLs only (http: on loopback outside production)', async () => {
    for (const media_url of ['javascript:alert(1)', 'file:///etc/passwd', 'data:image/png;base64,AAAA', '/x.png']) {
      const res = await h.request('POST', api(tenant, '/messages'), {
        token: admin,
        body: { conversation_id: conversationId, type: 'image', media_url },
      });
      expect(res.status, media_url).toBe(400);
      expect(res.body.errors[0].field).toBe('media_url');
    }
    const http = await h.request('POST', api(tenant, '/messages'), {
      token: admin,
      body: { conversation_id: conversationId, type: 'image', media_url: 'http://example.com/a.png' },
    });
    expect(http.status).toBe(400);
    const long = await h.request('POST', api(tenant, '/messages'), {
      token: admin,
      body: { conversation_id: conversationId, type: 'image', media_url: `https://example.com/${'a'.repeat(2048)}` },
    });
    expect(long.status).toBe(400);
  });
});

describe('problem titles', () => {
  it('are the status reason phrase, 415 included', async () => {
    const res = await h.request('POST', api(tenant, '/conversations'), {
      token: admin,
      body: 'channel=whatsapp',
      headers: { 'content-type': 'text/plain' },
    });
    expect(res.status).toBe(415);
    expect(res.body).toMatchObject({ status: 415, title: 'Unsupported Media Type' });
  });
});

describe('JSON nesting', () => {
  const deep = (levels: number) => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;

  it('refuses bodies nested deeper than 64 levels with a 400 naming the limit, on every JSON field', async () => {
    const create = await h.request('POST', api(tenant, '/conversations'), {
      token: admin,
      body: `{"channel":"whatsapp","contact_identifier":"5511999990002","platform_metadata":${deep(5_000)}}`,
    });
    expect(create.status).toBe(400);
    expect(create.body.detail).toContain('64 levels');
    const put = await h.request('PUT', api(tenant, `/conversations/${conversationId}`), {
      token: admin,
      body: `{"contact_metadata":${deep(100)}}`,
    });
    expect(put.status).toBe(400);
    const account = await h.request('POST', api(tenant, '/channel-accounts'), {
      token: admin,
      body: `{"provider":"whatsapp","name":"x","identifier":"1","credentials":{},"settings":${deep(4_000)}}`,
    });
    expect(account.status).toBe(400);
    // Within the limit, the same field is stored.
    const fine = await h.request('PUT', api(tenant, `/conversations/${conversationId}`), {
      token: admin,
      body: `{"contact_metadata":${deep(60)}}`,
    });
    expect(fine.status).toBe(200);
  });

  it('refuses a deeply nested webhook with 400 (the provider must not retry it)', async () => {
    const res = await fetch(`${h.url}/webhooks/${tenant}/whatsapp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-hub-signature-256': 'sha256=00' },
      body: `{"object":"whatsapp_business_account","entry":${deep(5_000)}}`,
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { detail: string }).detail).toContain('64 levels');
  });
});

describe("the HTTP parser's refusals", () => {
  it('answers an oversized request line or headers 431 and an unknown method 400, as problem+json', async () => {
    const long = problemOf((await raw(`GET /${'a'.repeat(100_000)} HTTP/1.1\r\nHost: x\r\n\r\n`)).text);
    expect(long.status).toBe(431);
    expect(long.type).toBe('application/problem+json');
    expect(long.body).toMatchObject({ status: 431, title: 'Request Header Fields Too Large' });
    const foo = problemOf((await raw('FOO / HTTP/1.1\r\nHost: x\r\n\r\n')).text);
    expect(foo.status).toBe(400);
    expect(foo.type).toBe('application/problem+json');
    expect(foo.body).toMatchObject({ status: 400, title: 'Bad Request' });
  });

  it('answers 408 to a body that never finishes, and to headers that never finish, and counts them', async () => {
    const path = api(tenant, '/conversations');
    const body = await raw(
      `POST ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${admin}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"a":1`,
    );
    const answer = problemOf(body.text);
    expect(answer.status).toBe(408);
    expect(answer.body).toMatchObject({ status: 408, title: 'Request Timeout' });
    expect(body.elapsedMs).toBeLessThan(5_000);
    const headers = await raw('GET /health HTTP/1.1\r\nHost: x\r\n');
    expect(problemOf(headers.text).status).toBe(408);
    const metrics = await (await fetch(`${h.url}/metrics`)).text();
    expect(metrics).toMatch(/http_client_errors_total\{status="408"\} [2-9]/);
  });
});

describe('oversized bodies', () => {
  it('always get their 413 (a lingering close), never a reset connection, on the API and the gateway', async () => {
    const body = 'x'.repeat(2 * 1024 * 1024); // API limit 1 MiB; the gateway's is set to 1 MiB below
    const outcomes: string[] = [];
    for (let i = 0; i < 20; i++)
      for (const path of [api(tenant, '/conversations'), `/webhooks/${tenant}/whatsapp`]) {
        try {
          const res = await fetch(h.url + path, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` },
            body,
          });
          const problem = (await res.json()) as { detail: string };
          outcomes.push(`${res.status} ${res.headers.get('connection')} ${problem.detail.includes('larger than')}`);
        } catch (err) {
          outcomes.push(String((err as { cause?: { code?: string } }).cause?.code ?? err));
        }
      }
    expect(outcomes).toEqual(Array(40).fill('413 close true'));
  });

  it('are refused the same without a Node request (app.request), and bodies within the limit reach the handler', async () => {
    const app = createApiApp(h.runtime, { logRequests: false });
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${admin}` };
    const big = await app.request(api(tenant, '/conversations'), {
      method: 'POST',
      headers,
      body: 'x'.repeat(1_100_000),
    });
    expect(big.status).toBe(413);
    const ok = await app.request(api(tenant, '/conversations'), {
      method: 'POST',
      headers,
      body: JSON.stringify({ channel: 'sms', contact_identifier: '+15550001111' }),
    });
    expect(ok.status, await ok.clone().text()).toBe(201);
  });
});

describe('request ids', () => {
  it('are on webhook answers too, given or made', async () => {
    const given = await fetch(`${h.url}/webhooks/${tenant}/whatsapp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'trace-123' },
      body: '{}',
    });
    expect(given.headers.get('x-request-id')).toBe('trace-123');
    const made = await fetch(`${h.url}/webhooks/${tenant}/whatsapp`, { method: 'POST', body: '{}' });
    expect(made.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('and webhook requests have their one line in the request log, with that id', async () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk, _encoding, done) {
        lines.push(...String(chunk).split('\n').filter(Boolean));
        done();
      },
    });
    const logged = await startStack({
      realtime: false,
      overrides: { log: createLogger({ level: 'info', destination }) },
    });
    try {
      const res = await fetch(`${logged.url}/webhooks/${tenant}/whatsapp`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-request-id': 'webhook-log-1' },
        body: '{}',
      });
      expect(res.status).toBe(400);
      const requests = () => lines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'request');
      for (let i = 0; i < 50 && requests().length < 1; i++) await new Promise((r) => setTimeout(r, 20));
      expect(requests()).toEqual([
        expect.objectContaining({
          request_id: 'webhook-log-1',
          method: 'POST',
          route: '/webhooks/:tenant/whatsapp',
          status: 400,
        }),
      ]);
    } finally {
      await logged.close();
    }
  });
});
