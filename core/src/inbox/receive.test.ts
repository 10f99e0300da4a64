import { MalformedPayloadError } from '@comms/adapter-kit';
import { describe, expect, it } from 'vitest';
import { checkedEvents, storable } from './receive.js';

describe('storable', () => {
  it('drops NUL characters from every string of an event, nested ones too, and keeps dates and other values', () => {
    const at = new Date('2026-01-01T00:00:00Z');
    const event = { text: 'a\u0000b', media: [{ caption: '\u0000x' }], timestamp: at, size: 3, name: null };
    const clean = storable(event);
    expect(clean).toEqual({ text: 'ab', media: [{ caption: 'x' }], timestamp: at, size: 3, name: null });
    expect(clean.timestamp).toBe(at);
  });

  it('returns a string without NUL as it is', () => {
    const text = 'hello';
    expect(storable(text)).toBe(text);
  });
});

describe('storable (issue 21 point 2)', () => {
  it('replaces lone UTF-16 surrogates, which jsonb refuses, and cleans object keys too', () => {
    expect(storable({ text: 'a\ud800b', pair: '\ud83d\ude00', extra: { 'k\u0000\udc00': 'v' } })).toEqual({
      text: 'a\uFFFDb',
      pair: '\ud83d\ude00',
      extra: { 'k\uFFFD': 'v' },
    });
  });
});

describe('checkedEvents (issue 21 point 2)', () => {
  const message = {
    kind: 'message',
    channel: 'sms',
    account_identifier: '+14155550100',
    external_id: 'SM1f0e8ae6ade43cb3c0ce4525424e404f',
    sender_identifier: '+447700900123',
    sender_name: null,
    timestamp: new Date('2026-01-01T00:00:00Z'),
    type: 'text',
    text: 'hi',
    media: [],
    location: null,
    email: null,
    reply_to_external_id: null,
    extra: {},
  };

  it('passes what adapters return as it is', () => {
    expect(checkedEvents([message])).toEqual([message]);
  });

  it('refuses, naming the event and its field, a value that would fail when stored', () => {
    const refusal = (events: unknown[]) => {
      try {
        checkedEvents(events);
      } catch (err) {
        return err as MalformedPayloadError;
      }
      throw new Error('accepted');
    };
    const invalid = refusal([message, { ...message, timestamp: new Date('abc') }]);
    expect(invalid).toBeInstanceOf(MalformedPayloadError);
    expect(invalid.issues.map((i) => i.field)).toEqual(['events[1].timestamp']);
    const far = refusal([{ ...message, timestamp: new Date(8.64e15), external_id: 'x'.repeat(3000) }]);
    expect(far.issues.map((i) => i.field)).toEqual(['events[0].external_id', 'events[0].timestamp']);
    expect(refusal([{ kind: 'message' }]).message).toContain('events[0].channel');
  });
});
