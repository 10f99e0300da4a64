/**
 * Micro-batching: calls made within one turn of the event loop become one call of `run` with all their
 * keys, so many concurrent jobs share one database round trip instead of making one each. Every caller
 * gets its own key's value (undefined when `run` has none for it), or the batch's error.
 */
export function batched<K, V>(
  run: (keys: K[]) => Promise<Map<K, V>>,
  maxBatch = 200,
): (key: K) => Promise<V | undefined> {
  let pending: { key: K; resolve: (v: V | undefined) => void; reject: (err: unknown) => void }[] = [];
  let scheduled = false;
  const flush = async () => {
    scheduled = false;
    const batch = pending;
    pending = [];
    if (!batch.length) return;
    try {
      const values = await run([...new Set(batch.map((b) => b.key))]);
      for (const b of batch) b.resolve(values.get(b.key));
    } catch (err) {
      for (const b of batch) b.reject(err);
    }
  };
  return (key) =>
    new Promise((resolve, reject) => {
      pending.push({ key, resolve, reject });
      if (pending.length >= maxBatch) void flush();
      else if (!scheduled) {
        scheduled = true;
        setImmediate(() => void flush());
      }
    });
}

/** One value per key of `owner`, made on first use: per-database, per-tenant batchers. */
export function perOwner<O extends object, V>(make: (owner: O, key: string) => V) {
  const cache = new WeakMap<O, Map<string, V>>();
  return (owner: O, key: string): V => {
    let byKey = cache.get(owner);
    if (!byKey) {
      byKey = new Map();
      cache.set(owner, byKey);
    }
    let value = byKey.get(key);
    if (value === undefined) {
      value = make(owner, key);
      byKey.set(key, value);
    }
    return value;
  };
}
