/** The public REST API, as the console calls it: bearer token, JSON in and out, problem+json errors. */
import type { Session } from './session';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly body: unknown = null,
  ) {
    super(detail);
  }
}

export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

type Query = Record<string, string | number | boolean | null | undefined>;

let current: Session | null = null;
let onUnauthorized: () => void = () => {};

export function setApiSession(s: Session | null, unauthorized: () => void): void {
  current = s;
  onUnauthorized = unauthorized;
}

export function base(tenant = current?.tenant ?? ''): string {
  return `/api/v1/tenants/${encodeURIComponent(tenant)}/communications`;
}

export function queryString(q: Query = {}): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== null && v !== '') p.set(k, String(v));
  const s = p.toString();
  return s ? `?${s}` : '';
}

/** The problem's `detail` (and the first field error), else the status line. */
export function problemMessage(status: number, body: unknown): string {
  if (body && typeof body === 'object') {
    const b = body as { detail?: string; title?: string; errors?: { field?: string; message?: string }[] };
    const first = b.errors?.[0];
    const field = first ? ` (${first.field ?? 'field'}: ${first.message ?? 'invalid'})` : '';
    if (b.detail) return b.detail + field;
    if (b.title) return b.title + field;
  }
  return `The server answered ${status}.`;
}

export async function request<T>(method: string, path: string, body?: unknown, query?: Query): Promise<T> {
  if (!current) throw new ApiError(401, 'Not signed in.');
  const headers: Record<string, string> = { authorization: `Bearer ${current.token}`, accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(base() + path + queryString(query), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, 'The service cannot be reached. Check the connection and try again.');
  }
  const text = await res.text();
  let parsed: unknown = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = text;
  }
  if (res.status === 401) onUnauthorized();
  if (!res.ok) throw new ApiError(res.status, problemMessage(res.status, parsed), parsed);
  return parsed as T;
}

export const api = {
  get: <T>(path: string, query?: Query) => request<T>('GET', path, undefined, query),
  post: <T>(path: string, body: unknown = {}) => request<T>('POST', path, body),
  put: <T>(path: string, body: unknown) => request<T>('PUT', path, body),
  del: <T>(path: string) => request<T>('DELETE', path),
};

/** A file behind the API (media): fetched with the token, handed back as an object URL. */
export async function fetchBlobUrl(url: string): Promise<string> {
  const res = await fetch(url, { headers: current ? { authorization: `Bearer ${current.token}` } : {} });
  if (!res.ok) throw new ApiError(res.status, `The file could not be loaded (${res.status}).`);
  return URL.createObjectURL(await res.blob());
}

/** The WebSocket URL of the tenant, resuming after `lastEventId` when given. */
export function socketUrl(loc: Location, s: Session, lastEventId: string | null): string {
  const proto = loc.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${proto}//${loc.host}${base(s.tenant)}/ws${queryString({ token: s.token, last_event_id: lastEventId })}`;
}
