// The kept AWS clients: one per region, endpoint and key; a client pushed out of the cache is destroyed only once the
// last call using it is over (a send cut off mid-flight would be retried, and the mail could go twice).
import { describe, expect, it } from 'vitest';
import { keptClients } from './aws.js';

class FakeClient {
  destroyed = false;
  constructor(readonly region: string) {}
  destroy() {
    this.destroyed = true;
  }
}

const target = (region: string, key = 'AKIA1') => ({
  region,
  credentials: { access_key_id: key, secret_access_key: `${key}-secret` },
});

describe('keptClients', () => {
  it('keeps one client per region and key, and a new one for a rotated key', async () => {
    const get = keptClients(
      async () => ({}),
      (_sdk, t) => new FakeClient(t.region),
    );
    const a = await get(target('eu-west-1'));
    a.release();
    const b = await get(target('eu-west-1'));
    b.release();
    expect(b.client).toBe(a.client);
    const rotated = await get(target('eu-west-1', 'AKIA2'));
    rotated.release();
    expect(rotated.client).not.toBe(a.client);
  });

  it('destroys a client pushed out of the cache when its last call is released, not before', async () => {
    const get = keptClients(
      async () => ({}),
      (_sdk, t) => new FakeClient(t.region),
    );
    const busy = await get(target('region-0'));
    for (let i = 1; i <= 64; i++) (await get(target(`region-${i}`))).release();
    // region-0 was the least recently used: out of the cache, but its call is still running.
    expect(busy.client.destroyed).toBe(false);
    busy.release();
    expect(busy.client.destroyed).toBe(true);
    const again = await get(target('region-0'));
    expect(again.client).not.toBe(busy.client);
    again.release();
  });
});
