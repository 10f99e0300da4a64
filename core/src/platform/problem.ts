/** application/problem+json (RFC 9457) responses, shared by the API and the gateway. */
import { type AppError, type FieldError, titleOf } from './errors.js';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: FieldError[];
}

export function problemResponse(
  status: number,
  detail: string,
  errors?: FieldError[],
  headers?: Record<string, string>,
): Response {
  const body: Problem = { type: 'about:blank', title: titleOf(status), status, detail, ...(errors ? { errors } : {}) };
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/problem+json', ...headers },
  });
}

export function appErrorResponse(err: AppError): Response {
  const headers: Record<string, string> =
    err.status === 401 ? { 'www-authenticate': `Bearer realm="communications", error="invalid_token"` } : {};
  if (err.retryAfterSeconds !== undefined) headers['retry-after'] = String(err.retryAfterSeconds);
  return problemResponse(err.status, err.message, err.errors, headers);
}
