import { describe, expect, it } from 'vitest';
import { withoutNul } from './receive.js';

describe('withoutNul', () => {
  it('drops NUL characters from every string of an event, nested ones too, and keeps dates and other values', () => {
    const at = new Date('2026-01-01T00:00:00Z');
    const event = { text: 'a\u0000b', media: [{ caption: '\u0000x' }], timestamp: at, size: 3, name: null };
    const clean = withoutNul(event);
    expect(clean).toEqual({ text: 'ab', media: [{ caption: 'x' }], timestamp: at, size: 3, name: null });
    expect(clean.timestamp).toBe(at);
  });

  it('returns a string without NUL as it is', () => {
    const text = 'hello';
    expect(withoutNul(text)).toBe(text);
  });
});
