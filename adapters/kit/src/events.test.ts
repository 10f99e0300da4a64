import { describe, expect, it } from 'vitest';
import { type InboundMessage, NormalizedEvent, type StatusEvent } from './events.js';

const message: InboundMessage = {
  kind: 'message',
  channel: 'whatsapp',
  account_identifier: '106540352242922',
  external_id: 'wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=',
  sender_identifier: '16505551234',
  sender_name: 'Sheena Nelson',
  timestamp: new Date('2025-06-08T20:59:43Z'),
  type: 'text',
  text: 'Does it come in another color?',
  media: [],
  location: null,
  email: null,
  reply_to_external_id: null,
  extra: {},
};
const status: StatusEvent = {
  kind: 'status',
  channel: 'whatsapp',
  account_identifier: '106540352242922',
  external_id: 'wamid.SENT',
  watermark: null,
  recipient_identifier: '16505551234',
  status: 'delivered',
  timestamp: new Date('2025-06-18T16:22:54Z'),
  error: null,
};
const fieldsOf = (event: unknown) => {
  const parsed = NormalizedEvent.safeParse(event);
  return parsed.success ? [] : parsed.error.issues.map((i) => i.path.join('.'));
};

describe('NormalizedEvent: the bounds core checks before anything is stored (issue 21 point 2)', () => {
  it('accepts a message and a status as adapters make them', () => {
    expect(NormalizedEvent.parse(message)).toEqual(message);
    expect(NormalizedEvent.parse(status)).toEqual(status);
  });

  it('refuses times that are invalid, before 2000 or more than a day ahead', () => {
    expect(fieldsOf({ ...message, timestamp: new Date(Number.NaN) })).toEqual(['timestamp']);
    expect(fieldsOf({ ...message, timestamp: new Date(-1) })).toEqual(['timestamp']);
    expect(fieldsOf({ ...message, timestamp: new Date(8.64e15) })).toEqual(['timestamp']);
    expect(fieldsOf({ ...status, timestamp: new Date(Date.now() + 2 * 86_400_000) })).toEqual(['timestamp']);
    expect(fieldsOf({ ...status, watermark: new Date(Number.NaN) })).toEqual(['watermark']);
    expect(fieldsOf({ ...message, timestamp: new Date(Date.now() + 60_000) })).toEqual([]);
  });

  it('refuses ids too long for a unique index, coordinates off the globe and statuses it does not know', () => {
    expect(fieldsOf({ ...message, external_id: 'x'.repeat(5000) })).toEqual(['external_id']);
    expect(fieldsOf({ ...message, sender_identifier: 'x'.repeat(1000) })).toEqual(['sender_identifier']);
    expect(
      fieldsOf({ ...message, type: 'location', location: { latitude: 91, longitude: 0, name: null, address: null } }),
    ).toEqual(['location.latitude']);
    expect(fieldsOf({ ...status, status: 'bounced' })).toEqual(['status']);
    expect(fieldsOf({ ...status, external_id: 'x'.repeat(5000) })).toEqual(['external_id']);
  });
});
