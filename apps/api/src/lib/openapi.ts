/** Small builders so each route declares its request and responses in one line each. */
import { z } from '@hono/zod-openapi';
import { type JsonPage, titleOf } from '@comms/core/platform';
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
  405: 'The path exists, but not with this method (see Allow)',
  413: 'Body too large',
  415: 'The body is not of a media type this operation takes',
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
      description: PROBLEM_TEXT[s] ?? titleOf(s),
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

const DECIMAL = 'expected a whole number in decimal digits';

/**
 * An integer in a path or query: decimal digits only, so `0x10`, `1e3`, ` 5` or `+5` are refused rather
 * than read as 16, 1000 or 5 (which `Number()` would do).
 */
export function decimalInt(min: number, max: number) {
  return z
    .string()
    .regex(/^\d{1,16}$/, DECIMAL)
    .transform(Number)
    .pipe(z.number().int().min(min).max(max))
    .openapi({ type: 'integer', minimum: min, maximum: max });
}

export const pathId = (name: string, description?: string) =>
  decimalInt(1, MAX_ID).openapi({ param: { name, in: 'path' }, example: 1, ...(description ? { description } : {}) });

export const IdParam = TenantParam.extend({ id: pathId('id') });

/** `limit`: 1 to 200, `fallback` when absent. */
export const limitQuery = (fallback: number) => decimalInt(1, 200).default(fallback);

export const PageQuery = z.object({
  limit: limitQuery(50),
  cursor: z.string().max(500).optional(),
});

/**
 * Whether http: URLs on loopback are accepted (outside production, for local development); https: always.
 * Set once per process by the API app from its configuration.
 */
const urlPolicy = { loopbackHttp: true };
export function allowLoopbackHttp(allowed: boolean): void {
  urlPolicy.loopbackHttp = allowed;
}

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/;

/**
 * A URL the service hands on (media to a provider, attachments to clients): absolute `https:`, or `http:`
 * on loopback outside production, at most 2,048 characters. `javascript:`, `file:`, `data:` and relative
 * URLs are refused.
 */
export const PublicUrl = z
  .string()
  .max(2048)
  .superRefine((value, ctx) => {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be an absolute https: URL' });
      return;
    }
    if (url.protocol === 'https:') return;
    if (url.protocol === 'http:' && urlPolicy.loopbackHttp && LOOPBACK.test(url.hostname)) return;
    ctx.addIssue({
      code: 'custom',
      message: urlPolicy.loopbackHttp ? 'must be an https: URL (http: only on localhost)' : 'must be an https: URL',
    });
  })
  .openapi({
    format: 'uri',
    description: 'Absolute https: URL (http: on loopback outside production), ≤ 2,048 characters',
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
