/** Small builders so each route declares its request and responses in one line each. */
import { z } from '@hono/zod-openapi';
import type { JsonPage } from '@comms/core/platform';
import type { TypedResponse } from 'hono';

export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
  })
  .openapi('Problem');

const PROBLEM_TEXT: Record<number, string> = {
  400: 'Invalid input',
  401: 'Missing, invalid or expired token',
  403: 'The token may not act on this tenant or resource',
  404: 'Not found',
  409: 'Conflicts with the current state',
  413: 'Body too large',
  422: 'Valid input the resource cannot accept now',
  503: 'A dependency is unavailable',
};

/** Problem responses for the given statuses (401 and 403 come with every tenant route). */
export function problems(...statuses: number[]) {
  const out: Record<
    number,
    { description: string; content: { 'application/problem+json': { schema: typeof ProblemSchema } } }
  > = {};
  for (const s of [...new Set([400, 401, 403, ...statuses])]) {
    out[s] = {
      description: PROBLEM_TEXT[s] ?? 'Error',
      content: { 'application/problem+json': { schema: ProblemSchema } },
    };
  }
  return out;
}

export function jsonBody<T extends z.ZodType>(schema: T, description = 'JSON body') {
  return { content: { 'application/json': { schema } }, required: true, description };
}

export function jsonResponse<T extends z.ZodType>(schema: T, description: string) {
  return { content: { 'application/json': { schema } }, description };
}

export function pageOf<T extends z.ZodType>(item: T, name: string) {
  return z
    .object({
      data: z.array(item),
      next_cursor: z.string().nullable().openapi({ description: 'Pass as `cursor` for the next page' }),
    })
    .openapi(name);
}

export const TenantParam = z.object({
  tenant: z.string().openapi({ param: { name: 'tenant', in: 'path' }, example: 'demo', description: 'Tenant slug' }),
});

/** PostgreSQL `integer` ids: a larger number is a 400 here, not an out-of-range error in the database. */
export const MAX_ID = 2_147_483_647;

/** Text PostgreSQL can store: a NUL character is refused by `text` and `jsonb`, so it is a 400 here. */
export const text = (max: number) =>
  z
    .string()
    .max(max)
    .refine((s) => !s.includes('\u0000'), 'must not contain NUL characters');

export const IdParam = TenantParam.extend({
  id: z.coerce
    .number()
    .int()
    .positive()
    .max(MAX_ID)
    .openapi({ param: { name: 'id', in: 'path' }, example: 1 }),
});

export const PageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(500).optional(),
});

/** Query booleans: `true`/`false`/`1`/`0`. */
export const QueryBool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

/**
 * `a,b` or repeated: a list of allowed values, each once. Deduplicated so that `new,new,new…` is the same
 * filter (and the same cached statement, see ShapeCache) as `new`.
 */
export function queryList<T extends [string, ...string[]]>(values: T) {
  return z
    .string()
    .max(1_000)
    .transform((s) => [
      ...new Set(
        s
          .split(',')
          .map((v) => v.trim())
          .filter(Boolean),
      ),
    ])
    .pipe(z.array(z.enum(values)).min(1));
}

export const Timestamp = z.string().openapi({ format: 'date-time', example: '2026-11-24T10:00:00.000Z' });
export const Uuid = z.uuid().openapi({ example: '7c9e6679-7425-40de-944b-e07fc1f90ae7' });

export const bearer = [{ bearerAuth: [] }];

/**
 * A page PostgreSQL rendered as JSON text, sent as is. Its shape is the route's declared page schema (the
 * list tests compare every item with the single-item endpoint's), which the type cannot see in a string.
 */
export function jsonPageResponse(page: JsonPage): TypedResponse<never, 200, 'json'> {
  return new Response(page.body, {
    status: 200,
    headers: { 'content-type': 'application/json' },
  }) as unknown as TypedResponse<never, 200, 'json'>;
}
