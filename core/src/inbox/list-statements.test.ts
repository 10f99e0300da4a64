import { ShapeCache, tenantTables } from '@comms/db';
import { describe, expect, it } from 'vitest';
import { encodeCursor } from '../platform/pagination.js';
import { type ConversationFilters, conversationListStatement } from './conversations.js';
import { messageListStatement } from './messages.js';

const schemas = ['tenant_alpha', 'tenant_beta'];
const tenantOf = (schemaName: string) => ({ schemaName, tables: tenantTables(schemaName) });
const cursor = encodeCursor(['2026-12-01T10:00:00.000Z', 42]);

/** Every combination of the list filters' shapes, each with values of its own. */
function* filterSets(): Generator<ConversationFilters> {
  let n = 0;
  for (const status of [undefined, ['open'], ['new', 'replied'], ['new', 'open', 'replied']] as const)
    for (const channel of [undefined, ['sms'], ['sms', 'email']])
      for (const priority of [undefined, ['high'], ['high', 'low']])
        for (const assigned_to of [undefined, 'none', '7c9e6679-7425-40de-944b-e07fc1f90ae7'])
          for (const is_lead of [undefined, true, false])
            for (const unread of [undefined, true, false])
              for (const q of [undefined, 'ana'])
                for (const withCursor of [false, true]) {
                  n++;
                  yield {
                    status: status ? [...status] : undefined,
                    channel,
                    priority,
                    assigned_to,
                    is_lead,
                    is_spam: n % 3 === 0 ? true : undefined, // a value, never the shape
                    unread,
                    q: q && `${q}${n}`,
                    cursor: withCursor ? cursor : undefined,
                    limit: 1 + (n % 100),
                  };
                }
}

describe('list statements built once per shape', () => {
  it('give every conversation filter set the SQL and parameters a fresh build gives', () => {
    const shared = new ShapeCache();
    const mismatches: string[] = [];
    let checked = 0;
    // Every shape comes up several times with other values, so a key that misses a difference in shape
    // hands a later filter set an earlier one's SQL. The second tenant needs only a few sets to show
    // that its statements are its own.
    for (const [schema, every] of [
      ['tenant_alpha', 1],
      ['tenant_beta', 37],
    ] as const) {
      const tenant = tenantOf(schema);
      let n = 0;
      for (const f of filterSets()) {
        if (n++ % every) continue;
        const fresh = JSON.stringify(conversationListStatement(tenant, f, new ShapeCache()).toSQL());
        const cached = JSON.stringify(conversationListStatement(tenant, f, shared).toSQL());
        if (cached !== fresh) mismatches.push(`${schema} ${JSON.stringify(f)}`);
        checked++;
      }
    }
    expect(mismatches.slice(0, 5)).toEqual([]);
    const sets = 4 * 3 * 3 * 3 * 3 * 3 * 2 * 2;
    expect(checked).toBe(sets + Math.ceil(sets / 37));
  });

  it('fill in the values of this request, not those of the request that built the shape', () => {
    const shared = new ShapeCache();
    const tenant = tenantOf('tenant_alpha');
    const base = { status: ['open' as const], limit: 50 };
    conversationListStatement(tenant, { ...base, q: 'first' }, shared);
    const second = conversationListStatement(tenant, { ...base, q: 'sec_ond%' }, shared).toSQL();
    expect(second.sql).toContain('"tenant_alpha"."inbox_conversations"');
    const pattern = '%sec\\_ond\\%%';
    expect(second.params).toEqual(['open', false, pattern, pattern, pattern, 51]);
  });

  it('give every message list shape the fresh SQL and parameters', () => {
    const shared = new ShapeCache();
    for (const pass of [1, 2])
      for (const schema of schemas)
        for (const order of ['asc', 'desc'] as const)
          for (const withCursor of [false, true]) {
            const options = { order, limit: 10 + pass, cursor: withCursor ? encodeCursor([100 + pass]) : undefined };
            const tenant = tenantOf(schema);
            const fresh = messageListStatement(tenant, pass, options, new ShapeCache()).toSQL();
            expect(messageListStatement(tenant, pass, options, shared).toSQL()).toEqual(fresh);
            expect(fresh.params).toEqual(withCursor ? [pass, 100 + pass, 11 + pass] : [pass, 11 + pass]);
          }
  });

  it('forget the least recently used shape past the bound, and build it again when it returns', () => {
    let builds = 0;
    const shapes = new ShapeCache(2);
    const build = (schema: string) => () => {
      builds++;
      return { toSQL: () => ({ sql: `select 1 from "${schema}".x`, params: [] }) };
    };
    for (const key of ['a', 'b', 'a', 'c', 'a']) shapes.statement(key, build(key), {});
    expect(builds).toBe(3); // a, b, c; c pushed out b, the one unused longest, and a stayed
    shapes.statement('b', build('b'), {});
    expect(builds).toBe(4);
  });
});
