/**
 * Who has a WebSocket open, across instances: a sorted set per user whose members are instance ids
 * scored by when their claim expires. Instances refresh their claims while sockets stay open.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';

export interface Presence {
  /** This instance has `count` sockets for the user (0 releases its claim). */
  set(tenant: string, userId: string, count: number): Promise<void>;
  isOnline(tenant: string, userId: string): Promise<boolean>;
  close(): Promise<void>;
}

const CLAIM_MS = 75_000; // the hub refreshes every 30 s

export function createInProcessPresence(): Presence {
  const counts = new Map<string, number>();
  return {
    async set(tenant, userId, count) {
      if (count > 0) counts.set(`${tenant}:${userId}`, count);
      else counts.delete(`${tenant}:${userId}`);
    },
    async isOnline(tenant, userId) {
      return (counts.get(`${tenant}:${userId}`) ?? 0) > 0;
    },
    async close() {},
  };
}

export function createRedisPresence(redisUrl: string, prefix: string): Presence {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 2 });
  redis.on('error', () => {});
  const instance = randomUUID();
  const key = (tenant: string, userId: string) => `${prefix}:presence:${tenant}:${userId}`;
  return {
    async set(tenant, userId, count) {
      const k = key(tenant, userId);
      if (count > 0)
        await redis
          .multi()
          .zadd(k, Date.now() + CLAIM_MS, instance)
          .pexpire(k, CLAIM_MS)
          .exec();
      else await redis.zrem(k, instance);
    },
    async isOnline(tenant, userId) {
      return (await redis.zcount(key(tenant, userId), Date.now(), '+inf')) > 0;
    },
    async close() {
      redis.disconnect();
    },
  };
}
