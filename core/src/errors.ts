/** One error type for services, jobs and routes; the API turns it into application/problem+json. */

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
    options?: { cause?: unknown; errors?: FieldError[] },
  ) {
    super(message, options);
    this.errors = options?.errors;
  }
  readonly errors: FieldError[] | undefined;
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

export function titleOf(status: number): string {
  const code = (Object.keys(STATUS) as ErrorCode[]).find((c) => STATUS[c] === status);
  return code ? TITLE[code] : 'Error';
}

export const notFound = (what: string) => new AppError('not_found', `${what} not found`);
