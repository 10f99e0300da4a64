import { describe, expect, it } from 'vitest';
import { batched, perOwner } from './batch.js';

describe('batched', () => {
  it('answers calls of one event-loop turn with one run, each with its own value', async () => {
    const runs: number[][] = [];
    const double = batched(async (keys: number[]) => {
      runs.push(keys);
      return new Map(keys.filter((k) => k !== 3).map((k) => [k, k * 2]));
    });
    const values = await Promise.all([1, 2, 2, 3].map((k) => double(k)));
    expect(values).toEqual([2, 4, 4, undefined]);
    expect(runs).toEqual([[1, 2, 3]]);
    expect(await double(5)).toBe(10);
    expect(runs).toHaveLength(2);
  });

  it('splits at maxBatch and gives every caller of a failed run its error', async () => {
    const sizes: number[] = [];
    const failing = batched(async (keys: number[]) => {
      sizes.push(keys.length);
      throw new Error(`down (${keys.length})`);
    }, 3);
    const results = await Promise.allSettled([1, 2, 3, 4, 5].map((k) => failing(k)));
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected', 'rejected', 'rejected']);
    expect(sizes).toEqual([3, 2]);
  });
});

describe('perOwner', () => {
  it('makes one value per owner and key', () => {
    let made = 0;
    const get = perOwner((_o: object, key: string) => ({ key, n: ++made }));
    const a = {};
    const b = {};
    expect(get(a, 'x')).toBe(get(a, 'x'));
    expect(get(a, 'x')).not.toBe(get(b, 'x'));
    expect(get(a, 'y').key).toBe('y');
    expect(made).toBe(3);
  });
});
