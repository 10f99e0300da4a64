// SES email accounts over HTTP against the real PostgreSQL: the transport and its settings, the access key pair
// write-only and encrypted like every credential, and SendGrid accounts exactly as before.
import { describe, expect, it } from 'vitest';
import { api } from '../support/harness.js';
import { db, h, t, useInboxApi } from '../support/inbox-api.js';
import { schemaOf } from '../support/wait.js';

useInboxApi();

const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:acme-ses';
const SES = {
  region: 'eu-west-1',
  from_email: 'Bookings@Acme.example',
  configuration_set: 'acme-events',
  sns_topic_arns: [TOPIC],
};

describe('SES email accounts', () => {
  it('stores the transport and its settings; the access key pair is sealed and never returned', async () => {
    const res = await h.request('POST', api(t, '/channel-accounts'), {
      body: {
        provider: 'email',
        name: 'SES inbox',
        identifier: 'ses@inbound.acme.example',
        transport: 'ses',
        credentials: { access_key_id: 'AKIAEXAMPLE', secret_access_key: 'wJalrXUtnFEMI-secret' },
        ses: { ...SES, inbound_addresses: ['sales@inbound.acme.example'] },
      },
    });
    expect(res.status, res.text).toBe(201);
    expect(res.body).toMatchObject({
      transport: 'ses',
      credentials: ['access_key_id', 'secret_access_key'],
      ses: {
        region: 'eu-west-1',
        from_email: 'bookings@acme.example',
        configuration_set: 'acme-events',
        inbound_addresses: ['sales@inbound.acme.example'],
        sns_topic_arns: [TOPIC],
      },
    });
    expect(res.text).not.toContain('wJalrXUtnFEMI-secret');
    const row = (
      await db.query(`select credentials_encrypted, transport from "${schemaOf(t)}".channel_accounts where id = $1`, [
        res.body.id,
      ])
    ).rows[0];
    expect(row.transport).toBe('ses');
    expect(row.credentials_encrypted).toMatch(/^v1:/);
    expect(row.credentials_encrypted).not.toContain('wJalrXUtnFEMI-secret');

    // Settings merge; a new topic list replaces the old one.
    const other = 'arn:aws:sns:eu-west-1:123456789012:acme-events';
    const upd = await h.request('PUT', api(t, `/channel-accounts/${res.body.id}`), {
      body: { ses: { sns_topic_arns: [TOPIC, other] } },
    });
    expect(upd.status, upd.text).toBe(200);
    expect(upd.body.ses).toMatchObject({ region: 'eu-west-1', sns_topic_arns: [TOPIC, other] });
    expect(upd.text).not.toContain('wJalrXUtnFEMI-secret');
  });

  it('refuses an SES account without its settings or with SendGrid credentials, and settings on other providers', async () => {
    const post = (body: Record<string, unknown>) =>
      h.request('POST', api(t, '/channel-accounts'), {
        body: { provider: 'email', name: 'x', identifier: 'x@inbound.acme.example', ...body },
      });
    const noSettings = await post({ transport: 'ses' });
    expect(noSettings.status).toBe(400);
    expect(noSettings.headers.get('content-type')).toContain('application/problem+json');
    const badTopic = await post({ transport: 'ses', ses: { ...SES, sns_topic_arns: ['not-an-arn'] } });
    expect(badTopic.status).toBe(400);
    expect(badTopic.body.errors[0].field).toBe('ses.sns_topic_arns.0');
    const badRegion = await post({ transport: 'ses', ses: { ...SES, region: 'mars' } });
    expect(badRegion.body.errors[0].field).toBe('ses.region');
    const sgCredential = await post({ transport: 'ses', ses: SES, credentials: { api_key: 'SG.x' } });
    expect(sgCredential.status).toBe(400);
    expect(sgCredential.body.errors[0].field).toBe('credentials.api_key');
    // Half a key pair would sign with the service's own AWS identity: refused, on creation and on an update.
    const halfPair = await post({ transport: 'ses', ses: SES, credentials: { access_key_id: 'AKIAEXAMPLE' } });
    expect(halfPair.status).toBe(400);
    expect(halfPair.body.errors[0].field).toBe('credentials.secret_access_key');
    const keyless = await h.request('POST', api(t, '/channel-accounts'), {
      body: {
        provider: 'email',
        name: 'keyless',
        identifier: 'keyless@inbound.acme.example',
        transport: 'ses',
        ses: SES,
      },
    });
    expect(keyless.status, keyless.text).toBe(201);
    const halfUpdate = await h.request('PUT', api(t, `/channel-accounts/${keyless.body.id}`), {
      body: { credentials: { secret_access_key: 'only-the-secret' } },
    });
    expect(halfUpdate.status).toBe(400);
    expect(halfUpdate.body.errors[0].field).toBe('credentials.access_key_id');
    const sesOnSendGrid = await post({ ses: SES });
    expect(sesOnSendGrid.status).toBe(400);
    const onWhatsApp = await h.request('POST', api(t, '/channel-accounts'), {
      body: { provider: 'whatsapp', name: 'w', identifier: '106540352242999', transport: 'ses' },
    });
    expect(onWhatsApp.status).toBe(400);
    expect(
      Number((await db.query(`select count(*) from "${schemaOf(t)}".channel_accounts where name = 'x'`)).rows[0].count),
    ).toBe(0);
  });

  it('keeps SendGrid accounts as they were: transport sendgrid by default, the same credentials', async () => {
    const res = await h.request('POST', api(t, '/channel-accounts'), {
      body: {
        provider: 'email',
        name: 'SendGrid',
        identifier: 'sg@inbound.acme.example',
        credentials: { api_key: 'SG.key', inbound_token: 'tok' },
      },
    });
    expect(res.status, res.text).toBe(201);
    expect(res.body).toMatchObject({ transport: 'sendgrid', ses: null, credentials: ['api_key', 'inbound_token'] });
    const wa = await h.request('POST', api(t, '/channel-accounts'), {
      body: { provider: 'whatsapp', name: 'w', identifier: '106540352242998' },
    });
    expect(wa.body).toMatchObject({ transport: null, ses: null });

    // Moving it to SES keeps nothing of SendGrid's credentials.
    const moved = await h.request('PUT', api(t, `/channel-accounts/${res.body.id}`), {
      body: { transport: 'ses', ses: SES, credentials: { access_key_id: 'AKIA2', secret_access_key: 's2' } },
    });
    expect(moved.status, moved.text).toBe(200);
    expect(moved.body).toMatchObject({ transport: 'ses', credentials: ['access_key_id', 'secret_access_key'] });
  });
});
