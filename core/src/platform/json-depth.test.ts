import { describe, expect, it } from 'vitest';
import { JSON_MAX_DEPTH, jsonNestsDeeperThan } from './json-depth.js';

const nested = (levels: number) => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;

describe('jsonNestsDeeperThan', () => {
  it('allows the limit and refuses one level more, objects and arrays alike', () => {
    expect(jsonNestsDeeperThan(nested(JSON_MAX_DEPTH))).toBe(false);
    expect(jsonNestsDeeperThan(nested(JSON_MAX_DEPTH + 1))).toBe(true);
    expect(jsonNestsDeeperThan(`${'['.repeat(65)}${']'.repeat(65)}`)).toBe(true);
    expect(jsonNestsDeeperThan(nested(5_000))).toBe(true);
    expect(jsonNestsDeeperThan(new TextEncoder().encode(`{"é":${nested(JSON_MAX_DEPTH)}}`))).toBe(true);
    expect(jsonNestsDeeperThan(new TextEncoder().encode(`{"é":"ü[[["}`))).toBe(false);
  });

  it('does not count brackets inside strings, escaped quotes included', () => {
    const text = JSON.stringify({ s: `${'{['.repeat(100)}\\"${'"{'.repeat(100)}` });
    expect(jsonNestsDeeperThan(text)).toBe(false);
  });

  it('counts depth, not the number of objects', () => {
    expect(jsonNestsDeeperThan(JSON.stringify(Array.from({ length: 10_000 }, () => ({ a: [1] }))))).toBe(false);
  });
});
