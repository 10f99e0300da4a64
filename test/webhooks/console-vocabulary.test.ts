// The console offers exactly what the webhook endpoints API takes: every event type of the realtime vocabulary that
// leaves as a webhook (not `typing`, `read` or admin notices, per the route's description), and every inbox channel.
import { Channel } from '@comms/adapter-kit';
import { EventType } from '@comms/core/platform';
import { describe, expect, it } from 'vitest';
import { WEBHOOK_CHANNELS, WEBHOOK_EVENT_TYPES } from '../../apps/console/src/settings/webhook-events.js';

describe('the console’s webhook vocabulary', () => {
  it('lists every event type that can leave as a webhook, and every inbox channel', () => {
    const neverSent = ['typing', 'read', 'webhook_endpoint_disabled'];
    expect([...WEBHOOK_EVENT_TYPES].sort()).toEqual(EventType.options.filter((t) => !neverSent.includes(t)).sort());
    expect([...WEBHOOK_CHANNELS].sort()).toEqual([...Channel.options].sort());
  });
});
