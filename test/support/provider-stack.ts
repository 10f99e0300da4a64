/**
 * The whole service (API, gateway, worker on Redis) with every provider's API replaced by one fake on loopback, and a
 * pg client: what the files that send through providers share. Call `useProviderStack(…)` at the top of a test
 * file: the bindings below are set before its tests run, and everything stops after them.
 */
import type { WorkerOptions } from '@comms/worker';
import type pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { connectTestDb } from './env.js';
import { type FakeProvider, type Responder, startFakeProvider } from './fake-provider.js';
import { type Stack, startStack } from './stack.js';
import { messageRow as messageRowOf } from './wait.js';

export let fake: FakeProvider;
export let h: Stack;
export let db: pg.Client;

export function useProviderStack(o: {
  /** How the fake answers, until a test says otherwise (`fake.respond`). */
  responder: Responder;
  worker?: boolean | WorkerOptions;
  env?: Record<string, string>;
}): void {
  beforeAll(async () => {
    fake = await startFakeProvider(o.responder);
    h = await startStack({
      redis: true,
      worker: o.worker ?? true,
      env: {
        WHATSAPP_API_URL: fake.url,
        MESSENGER_API_URL: fake.url,
        TWILIO_API_URL: fake.url,
        SENDGRID_API_URL: fake.url,
        SES_API_URL: fake.url,
        S3_API_URL: fake.url,
        ...o.env,
      },
    });
    db = await connectTestDb();
  });
  afterAll(async () => {
    await db.end();
    await h.close();
    await fake.close();
  });
}

/** One inbox message row of the tenant, as stored. */
export const messageRow = (tenant: string, id: number) => messageRowOf(db, tenant, id);
