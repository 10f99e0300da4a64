/**
 * The values adapters read off a provider's wire, as zod fields, and the way a schema's refusal becomes a
 * MalformedPayloadError naming the field (issue 21 point 2). A correctly signed webhook whose values are not what
 * the provider documents is refused (400) rather than left to fail while it is stored (503, which the provider
 * redelivers for days).
 */
import { z } from 'zod';
import { isPlausibleTime } from './bounds.js';
import { MalformedPayloadError, type PayloadIssue } from './inbound.js';

const TIME_RANGE = 'a time between 2000-01-01 and a day from now';

/** Unix seconds as a JSON integer (SendGrid's `timestamp`), read as a Date. */
export const UnixSeconds = z
  .number()
  .int({ error: 'Unix seconds as an integer', abort: true })
  .refine((s) => isPlausibleTime(new Date(s * 1000)), TIME_RANGE)
  .transform((s) => new Date(s * 1000));

/** Unix seconds as a string of digits (WhatsApp's `timestamp`), read as a Date. */
export const UnixSecondsText = z
  .string()
  .regex(/^\d{1,12}$/, { error: 'Unix seconds as a string of digits', abort: true })
  .refine((s) => isPlausibleTime(new Date(Number(s) * 1000)), TIME_RANGE)
  .transform((s) => new Date(Number(s) * 1000));

/** Milliseconds since the epoch as a JSON integer (Messenger's `timestamp` and `watermark`), read as a Date. */
export const UnixMillis = z
  .number()
  .int({ error: 'milliseconds since the epoch as an integer', abort: true })
  .refine((ms) => isPlausibleTime(new Date(ms)), TIME_RANGE)
  .transform((ms) => new Date(ms));

/** A provider's id of something (a message, an event): printable ASCII without spaces, at most `max` characters. */
export const ProviderId = (max = 256) =>
  z
    .string()
    .min(1, 'an id, not empty')
    .max(max, `an id of at most ${max} characters`)
    .regex(/^[\x21-\x7e]+$/, 'an id of printable ASCII without spaces');

/** A Graph API id (a page, an Instagram account, a PSID, a phone_number_id): a string of digits. */
export const GraphId = z.string().regex(/^\d{1,32}$/, 'a Graph API id: a string of at most 32 digits');

/** Free text the provider carries for a person or a thing (a name, a title, a reason): at most `max` characters. */
export const ShortText = (max = 1024) => z.string().max(max, `at most ${max} characters`);

/** An https URL the provider hosts (media), at most 2,048 characters. */
export const HttpsUrl = z
  .string()
  .max(2048, 'a URL of at most 2,048 characters')
  .refine((s) => {
    try {
      return new URL(s).protocol === 'https:';
    } catch {
      return false;
    }
  }, 'an absolute https URL');

/** A MIME type (`image/jpeg`, `audio/ogg; codecs=opus`). */
export const MimeType = z
  .string()
  .max(255, 'a MIME type of at most 255 characters')
  .regex(/^[\w!#$&^.+-]+\/[\w!#$&^.+-]+(\s*;.*)?$/, 'a MIME type (type/subtype)');

/** `entry[0].changes[1]` for zod's `['entry', 0, 'changes', 1]`. */
export function fieldOf(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out;
}

const MAX_ISSUES = 10;

/** The issues of a zod refusal, each with the field it is about (under `prefix`, when the value was nested). */
export function issuesOf(error: z.ZodError, prefix: readonly PropertyKey[] = []): PayloadIssue[] {
  return error.issues.slice(0, MAX_ISSUES).map((i) => ({ field: fieldOf([...prefix, ...i.path]), message: i.message }));
}

/** A MalformedPayloadError saying what is wrong, field by field. */
export function malformedPayload(what: string, issues: PayloadIssue[]): MalformedPayloadError {
  const list = issues.map((i) => (i.field ? `${i.field}: ${i.message}` : i.message)).join('; ');
  return new MalformedPayloadError(`${what}: ${list}`, { issues });
}

/**
 * The value as `schema` reads it, or a MalformedPayloadError naming every field that is wrong. `at` is where the value
 * sits in the body, so that the fields are named from the body's root.
 */
export function readWire<S extends z.ZodType>(
  schema: S,
  value: unknown,
  what: string,
  at: readonly PropertyKey[] = [],
): z.output<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw malformedPayload(what, issuesOf(parsed.error, at));
  return parsed.data;
}
