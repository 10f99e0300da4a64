// Channel accounts over HTTP against the real PostgreSQL: credentials encrypted at rest and never returned, validation
// of providers, identifiers and credential names, duplicates, and tenant admins only.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { api } from '../support/harness.js';
import { agent, db, h, t, useInboxApi } from '../support/inbox-api.js';
import { schemaOf } from '../support/wait.js';

useInboxApi();

describe('channel accounts', () => {
  it('encrypts credentials at rest and never returns them', async () => {
    const admin = await h.token({ tenant: t, role: 'tenant_admin' });
    const secret = `EAAG-${randomUUID()}`;
    const res = await h.request('POST', api(t, '/channel-accounts'), {
      token: admin,
      body: {
        provider: 'whatsapp',
        name: 'Main WhatsApp',
        identifier: '106540352242922',
        credentials: { access_token: secret, app_secret: 'appsecret-xyz', verify_token: 'vt' },
      },
    });
    expect(res.status, res.text).toBe(201);
    expect(res.body.credentials).toEqual(['access_token', 'app_secret', 'verify_token']);
    expect(res.text).not.toContain(secret);
    const row = await db.query(`select credentials_encrypted from "${schemaOf(t)}".channel_accounts where id = $1`, [
      res.body.id,
    ]);
    expect(row.rows[0].credentials_encrypted).toMatch(/^v1:/);
    expect(row.rows[0].credentials_encrypted).not.toContain(secret);
    expect(Buffer.from(row.rows[0].credentials_encrypted.split(':')[3], 'base64').toString()).not.toContain(secret);
    const { openCredentials } = await import('@comms/core/inbox');
    const stored = openCredentials(h.runtime, { credentialsEncrypted: row.rows[0].credentials_encrypted } as never);
    expect(stored.access_token).toBe(secret);

    for (const path of ['/channel-accounts', `/channel-accounts/${res.body.id}`]) {
      const got = await h.request('GET', api(t, path), { token: admin });
      expect(got.text).not.toContain(secret);
      expect(got.text).not.toContain('appsecret-xyz');
    }
    const upd = await h.request('PUT', api(t, `/channel-accounts/${res.body.id}`), {
      token: admin,
      body: { credentials: { verify_token: null, app_secret: 'rotated' } },
    });
    expect(upd.body.credentials).toEqual(['access_token', 'app_secret']);
    expect(upd.text).not.toContain('rotated');
  });

  it('validates provider, identifier and credential names; 409 on a duplicate; tenant admins only', async () => {
    const admin = await h.token({ tenant: t, role: 'tenant_admin' });
    const post = (body: Record<string, unknown>, token = admin) =>
      h.request('POST', api(t, '/channel-accounts'), { token, body });
    expect((await post({ provider: 'sms', name: 'Twilio', identifier: '555-1234' })).body.errors[0].field).toBe(
      'identifier',
    );
    expect(
      (await post({ provider: 'sms', name: 'Twilio', identifier: '+14155550100', credentials: { password: 'x' } })).body
        .errors[0].field,
    ).toBe('credentials.password');
    const ok = await post({
      provider: 'twilio_whatsapp',
      name: 'WA',
      identifier: 'whatsapp:+14155550199',
      credentials: { account_sid: 'AC1', auth_token: 'tok' },
    });
    expect(ok.status).toBe(201);
    expect(ok.body.identifier).toBe('+14155550199');
    expect((await post({ provider: 'twilio_whatsapp', name: 'WA2', identifier: '+14155550199' })).status).toBe(409);
    expect(
      (await post({ provider: 'email', name: 'Mail', identifier: 'Support@Inbound.Acme.example' })).body.identifier,
    ).toBe('support@inbound.acme.example');
    expect((await post({ provider: 'sms', name: 'x', identifier: '+14155550111' }, agent)).status).toBe(403);
    expect((await h.request('DELETE', api(t, `/channel-accounts/${ok.body.id}`), { token: admin })).status).toBe(204);
    expect((await h.request('GET', api(t, `/channel-accounts/${ok.body.id}`), { token: admin })).status).toBe(404);
    // The identifier is free again.
    expect((await post({ provider: 'twilio_whatsapp', name: 'WA3', identifier: '+14155550199' })).status).toBe(201);
  });
});
