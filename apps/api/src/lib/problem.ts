/** application/problem+json (RFC 9457) for every error the API answers. */
import { AppError, type FieldError, problemResponse } from '@comms/core/platform';
import type { Context } from 'hono';
import type { ZodError } from 'zod';

export function zodFieldErrors(error: ZodError, prefix?: string): FieldError[] {
  return error.issues.map((issue) => ({
    field: [prefix, ...issue.path.map(String)].filter(Boolean).join('.') || '(body)',
    message: repeated(issue) ? 'given more than once; it takes one value' : issue.message,
  }));
}

/** A single-valued query parameter given twice arrives as an array (`limit=10&limit=20`). */
function repeated(issue: ZodError['issues'][number]): boolean {
  return issue.code === 'invalid_type' && issue.expected !== 'array' && / received array$/.test(issue.message);
}

const TARGET_NAME: Record<string, string> = { json: 'body', query: 'query', param: 'path', header: 'header' };

export function validationProblem(_c: Context, error: ZodError, target: string): Response {
  const errors = zodFieldErrors(error, target === 'json' ? undefined : TARGET_NAME[target]);
  const detail = `invalid ${TARGET_NAME[target] ?? target}: ${errors.map((e) => `${e.field} (${e.message})`).join('; ')}`;
  return problemResponse(400, detail, errors);
}

export { AppError, problemResponse };
export { appErrorResponse } from '@comms/core/platform';
