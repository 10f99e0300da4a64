/** One error type for services, jobs and routes; the API turns it into application/problem+json. */
import { STATUS_CODES } from 'node:http';

const STATUS = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  unprocessable: 422,
  too_many_requests: 429,
  unavailable: 503,
  internal: 500,
} as const;

export type ErrorCode = keyof typeof STATUS;

const TITLE: Record<ErrorCode, string> = {
  bad_request: 'Bad Request',
  unauthorized: 'Unauthorized',
  forbidden: 'Forbidden',
  not_found: 'Not Found',
  conflict: 'Conflict',
  payload_too_large: 'Payload Too Large',
  unprocessable: 'Unprocessable Content',
  too_many_requests: 'Too Many Requests',
  unavailable: 'Service Unavailable',
  internal: 'Internal Server Error',
};

export interface FieldError {
  field: string;
  message: string;
}

export class AppError extends Error {
  override name = 'AppError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown; errors?: FieldError[]; retryAfterSeconds?: number },
  ) {
    super(message, options);
    this.errors = options?.errors;
    this.retryAfterSeconds = options?.retryAfterSeconds;
  }
  readonly errors: FieldError[] | undefined;
  /** For a 429 or 503: when the client may try again (the answer's Retry-After). */
  readonly retryAfterSeconds: number | undefined;
  get status(): number {
    return STATUS[this.code];
  }
  get title(): string {
    return TITLE[this.code];
  }
}

export function statusOf(code: ErrorCode): number {
  return STATUS[code];
}

/** A problem's title: the status's reason phrase (RFC 9110 §15), for every status, ours or the HTTP parser's. */
export function titleOf(status: number): string {
  const code = (Object.keys(STATUS) as ErrorCode[]).find((c) => STATUS[c] === status);
  return code ? TITLE[code] : (STATUS_CODES[status] ?? `HTTP ${status}`);
}

export const notFound = (what: string) => new AppError('not_found', `${what} not found`);

/**
 * PostgreSQL's answers to values it cannot store (SQLSTATE class 22): a number out of range, a NUL
 * character, text that is not valid in the database encoding. They come from the request, so they are a
 * 400, never a 500. Returns the detail to show, or null for any other error. Looks through `cause`
 * (Drizzle wraps driver errors).
 */
export function invalidValueDetail(err: unknown): string | null {
  const details: Record<string, string> = {
    '22003': 'a number in the request is out of range',
    '22021': 'the request contains characters that cannot be stored (such as NUL)',
    '22P05': 'the request contains characters that cannot be stored (such as NUL)',
    '22P02': 'a value in the request is not valid for its field',
    '22001': 'a value in the request is too long',
    '22007': 'a date or time in the request is not valid',
    '22008': 'a date or time in the request is out of range',
  };
  for (const { code } of causes(err)) if (typeof code === 'string' && code in details) return details[code] ?? null;
  return null;
}

/**
 * `err` and the errors it wraps through `cause` (Drizzle wraps the driver's), outermost first, at most five
 * deep: where the database's SQLSTATE `code` is found.
 */
function* causes(err: unknown): Generator<{ code?: unknown; message?: unknown }> {
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++)
    yield e as { code?: unknown; message?: unknown };
}

/** A unique constraint refused the write (SQLSTATE 23505): usually a 409 for the caller. */
export function isUniqueViolation(err: unknown): boolean {
  for (const { code } of causes(err)) if (code === '23505') return true;
  return false;
}

// How node-postgres, pg-pool and PostgreSQL say the database cannot be reached right now.
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN']);
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300']); // shutdown, crash, starting, too many
const UNREACHABLE_MESSAGES = [
  'Connection terminated',
  'Query read timeout', // DB_QUERY_TIMEOUT_MS: the database stopped answering
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error',
];

/**
 * Whether `err` (or an error it wraps) says the database is unreachable or
 * refusing connections, rather than that the query was wrong: the request may succeed if retried.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  for (const { code, message } of causes(err)) {
    if (typeof code === 'string' && (UNREACHABLE_CODES.has(code) || UNAVAILABLE_SQLSTATES.has(code))) return true;
    if (typeof code === 'string' && code.startsWith('08')) return true; // SQLSTATE class 08: connection exception
    if (typeof message === 'string' && UNREACHABLE_MESSAGES.some((m) => message.includes(m))) return true;
  }
  return false;
}
