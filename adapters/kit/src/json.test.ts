import { describe, expect, it } from 'vitest';
import { MalformedPayloadError } from './inbound.js';
import { parseJsonBody } from './json.js';

const raw = (text: string) => ({ url: 'http://127.0.0.1/webhooks/t/whatsapp', headers: {}, body: Buffer.from(text) });

describe('parseJsonBody', () => {
  it('parses a request once, however many readers ask', () => {
    const req = raw('{"object":"page","entry":[]}');
    const first = parseJsonBody(req);
    expect(first).toEqual({ object: 'page', entry: [] });
    expect(parseJsonBody(req)).toBe(first);
    expect(parseJsonBody(raw('{"object":"page","entry":[]}'))).not.toBe(first);
  });

  it('refuses a body that is not JSON, every time it is asked', () => {
    const req = raw('{"object":');
    expect(() => parseJsonBody(req)).toThrow(MalformedPayloadError);
    expect(() => parseJsonBody(req)).toThrow('the body is not JSON');
  });
});
