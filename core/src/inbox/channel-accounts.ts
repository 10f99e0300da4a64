/**
 * The tenant's provider connections (DESIGN Appendix A). Credentials are write-only:
 * sealed with AES-256-GCM before they reach the table, and never returned by the API.
 */
import { type Channel, type EmailTransport, SesSettings } from '@comms/adapter-kit';
import { and, asc, eq, gt, inArray, isNull, sql } from '@comms/db';
import type { TenantContext } from '../platform/context.js';
import { AppError, isUniqueViolation, notFound } from '../platform/errors.js';
import { decodeCursor, type Page, toPage } from '../platform/pagination.js';
import { type ChannelAccountRow, type ChannelAccountView, channelAccountView } from './views.js';

export const PROVIDER_CREDENTIALS: Record<Channel, readonly string[]> = {
  whatsapp: ['access_token', 'app_secret', 'verify_token'],
  messenger: ['page_access_token', 'app_secret', 'verify_token'],
  instagram: ['page_access_token', 'app_secret', 'verify_token'],
  sms: ['account_sid', 'auth_token'],
  twilio_whatsapp: ['account_sid', 'auth_token'],
  email: ['api_key', 'from_email', 'inbound_token', 'event_public_key'],
};

/** An email account's credentials depend on its transport: SES signs with AWS's keys, the account holds an access key. */
const SES_CREDENTIALS = ['access_key_id', 'secret_access_key'] as const;

function credentialNamesOf(provider: Channel, transport: EmailTransport | null): readonly string[] {
  return provider === 'email' && transport === 'ses' ? SES_CREDENTIALS : PROVIDER_CREDENTIALS[provider];
}

const E164 = /^\+[1-9]\d{6,14}$/;
const EMAIL = /^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/;

/** How a webhook will name this account, in one normal form. */
export function normalizeIdentifier(provider: Channel, identifier: string): string {
  const raw = identifier.trim();
  const fail = (what: string) =>
    new AppError('bad_request', `identifier must be ${what}`, {
      errors: [{ field: 'identifier', message: `must be ${what}` }],
    });
  switch (provider) {
    case 'sms':
    case 'twilio_whatsapp': {
      const number = raw.replace(/^whatsapp:/i, '');
      if (!E164.test(number)) throw fail('a phone number in E.164 form, such as +14155550100');
      return number;
    }
    case 'email':
      if (!EMAIL.test(raw)) throw fail('an email address');
      return raw.toLowerCase();
    default:
      if (!/^\d{5,30}$/.test(raw))
        throw fail(`the numeric ${provider === 'whatsapp' ? 'phone_number_id' : 'account id'}`);
      return raw;
  }
}

/**
 * What a sandbox account may carry besides its provider's credentials: SendGrid signs its Event Webhook with a
 * private key only SendGrid holds, so the sandbox transport, playing SendGrid, needs the private half of the
 * account's `event_public_key` (base64 PKCS#8 DER). Write-only and sealed like every credential.
 */
export const SANDBOX_CREDENTIALS: Partial<Record<Channel, readonly string[]>> = {
  email: ['event_private_key'],
};

function checkCredentialNames(
  provider: Channel,
  credentials: Record<string, unknown>,
  sandbox: boolean,
  transport: EmailTransport | null = null,
): void {
  const allowed = credentialNamesOf(provider, transport);
  const sandboxOnly = SANDBOX_CREDENTIALS[provider] ?? [];
  const unknown = Object.keys(credentials).filter((k) => !allowed.includes(k) && !(sandbox && sandboxOnly.includes(k)));
  if (unknown.length)
    throw new AppError('bad_request', `${transport ?? provider} accounts take credentials ${allowed.join(', ')}`, {
      errors: unknown.map((k) => ({
        field: `credentials.${k}`,
        message: sandboxOnly.includes(k)
          ? 'only sandbox accounts take it'
          : `not a ${transport ?? provider} credential`,
      })),
    });
}

/**
 * An SES account signs with its own key pair or with the service's AWS credentials: one half of a pair would
 * silently fall back to the service's own identity.
 */
function checkAwsKeyPair(credentials: Record<string, unknown>, transport: EmailTransport | null): void {
  if (transport !== 'ses') return;
  const [missing] = SES_CREDENTIALS.filter((k) => !credentials[k]);
  if (missing && SES_CREDENTIALS.some((k) => credentials[k]))
    throw new AppError('bad_request', 'an ses account takes access_key_id and secret_access_key together, or neither', {
      errors: [
        { field: `credentials.${missing}`, message: 'set with the other half of the key pair, or both removed' },
      ],
    });
}

function seal(ctx: TenantContext, credentials: Record<string, string>) {
  const names = Object.keys(credentials).sort();
  return {
    credentialsEncrypted: names.length ? ctx.secrets.seal(JSON.stringify(credentials)) : null,
    credentialNames: names,
  };
}

/** The account's credentials, decrypted. For the gateway and the worker only. */
export function openCredentials(ctx: Pick<TenantContext, 'secrets'>, row: ChannelAccountRow): Record<string, string> {
  if (!row.credentialsEncrypted) return {};
  return JSON.parse(ctx.secrets.open(row.credentialsEncrypted)) as Record<string, string>;
}

/**
 * The transport and its settings as stored: email accounts default to SendGrid; an SES account needs its settings
 * (validated here, so a webhook never meets an account it cannot check); other providers have neither.
 */
function transportOf(
  provider: Channel,
  transport: EmailTransport | undefined,
  ses: unknown,
): { transport: EmailTransport | null; transportSettings: Record<string, unknown> } {
  const fail = (field: string, message: string) =>
    new AppError('bad_request', `${field} ${message}`, { errors: [{ field, message }] });
  if (provider !== 'email') {
    if (transport !== undefined || ses !== undefined) throw fail('transport', 'is for email accounts only');
    return { transport: null, transportSettings: {} };
  }
  const chosen = transport ?? 'sendgrid';
  if (chosen === 'sendgrid') {
    if (ses !== undefined && ses !== null) throw fail('ses', 'is for accounts whose transport is ses');
    return { transport: 'sendgrid', transportSettings: {} };
  }
  const parsed = SesSettings.safeParse(ses);
  if (!parsed.success)
    throw new AppError('bad_request', 'an ses account needs its ses settings (region, sns_topic_arns, …)', {
      errors: parsed.error.issues.slice(0, 10).map((i) => ({
        field: ['ses', ...i.path].join('.'),
        message: i.message,
      })),
    });
  return { transport: 'ses', transportSettings: parsed.data };
}

export interface ChannelAccountInput {
  provider: Channel;
  /** Email accounts: `sendgrid` (the default) or `ses`. */
  transport?: EmailTransport;
  /** SES accounts: region, from_email, configuration_set, inbound_addresses, sns_topic_arns. */
  ses?: Record<string, unknown> | null;
  name: string;
  identifier: string;
  credentials?: Record<string, string>;
  settings?: Record<string, unknown>;
  /** Replies go to the sandbox transport, never to the provider (see outbound.ts). */
  sandbox?: boolean;
}

export async function createChannelAccount(
  ctx: TenantContext,
  input: ChannelAccountInput,
): Promise<ChannelAccountView> {
  const { channelAccounts: a } = ctx.tenant.tables;
  const credentials = input.credentials ?? {};
  const sandbox = input.sandbox ?? false;
  const transport = transportOf(input.provider, input.transport, input.ses ?? undefined);
  checkCredentialNames(input.provider, credentials, sandbox, transport.transport);
  checkAwsKeyPair(credentials, transport.transport);
  const identifier = normalizeIdentifier(input.provider, input.identifier);
  try {
    const [row] = await ctx.db
      .insert(a)
      .values({
        provider: input.provider,
        name: input.name,
        identifier,
        settings: input.settings ?? {},
        sandbox,
        ...transport,
        ...seal(ctx, credentials),
      })
      .returning();
    return channelAccountView(row!);
  } catch (err) {
    if (isUniqueViolation(err))
      throw new AppError('conflict', `a ${input.provider} account with identifier ${identifier} already exists`);
    throw err;
  }
}

export async function findChannelAccount(ctx: TenantContext, id: number): Promise<ChannelAccountRow> {
  const { channelAccounts: a } = ctx.tenant.tables;
  const [row] = await ctx.db
    .select()
    .from(a)
    .where(and(eq(a.id, id), isNull(a.deletedAt)))
    .limit(1);
  if (!row) throw notFound(`channel account ${id}`);
  return row;
}

export async function listChannelAccounts(
  ctx: TenantContext,
  f: { provider?: string; limit: number; cursor?: string },
): Promise<Page<ChannelAccountView>> {
  const { channelAccounts: a } = ctx.tenant.tables;
  const where = [isNull(a.deletedAt)];
  if (f.provider) where.push(eq(a.provider, f.provider));
  if (f.cursor) where.push(gt(a.id, (decodeCursor(f.cursor, ['int']) as [number])[0]));
  const rows = await ctx.db
    .select()
    .from(a)
    .where(and(...where))
    .orderBy(asc(a.id))
    .limit(f.limit + 1);
  return toPage(rows, f.limit, (r) => [r.id], channelAccountView);
}

export async function updateChannelAccount(
  ctx: TenantContext,
  id: number,
  input: {
    name?: string;
    identifier?: string;
    /** Merged into the stored ones; a null value removes that credential. */
    credentials?: Record<string, string | null>;
    status?: 'active' | 'disabled';
    settings?: Record<string, unknown>;
    sandbox?: boolean;
    transport?: EmailTransport;
    ses?: Record<string, unknown> | null;
  },
): Promise<ChannelAccountView> {
  const { channelAccounts: a } = ctx.tenant.tables;
  const current = await findChannelAccount(ctx, id);
  const provider = current.provider as Channel;
  const patch: Partial<ChannelAccountRow> = { updatedAt: new Date() };
  if (input.name !== undefined) patch.name = input.name;
  if (input.status !== undefined) patch.status = input.status;
  if (input.settings !== undefined) patch.settings = input.settings;
  if (input.identifier !== undefined) patch.identifier = normalizeIdentifier(provider, input.identifier);
  const sandbox = input.sandbox ?? current.sandbox;
  if (input.sandbox !== undefined) patch.sandbox = input.sandbox;
  let transport = current.transport as EmailTransport | null;
  const transportChanged = input.transport !== undefined && input.transport !== transport;
  if (input.transport !== undefined || input.ses !== undefined) {
    // A change of transport starts from its own settings; otherwise the given ones are merged into the stored ones.
    const ses =
      input.ses === null || (input.ses === undefined && (input.transport ?? transport) !== 'ses')
        ? undefined
        : { ...(transportChanged ? {} : current.transportSettings), ...input.ses };
    const next = transportOf(provider, input.transport ?? transport ?? undefined, ses);
    Object.assign(patch, next);
    transport = next.transport;
  }
  if (input.credentials !== undefined || (current.sandbox && !sandbox) || transportChanged) {
    checkCredentialNames(provider, input.credentials ?? {}, sandbox, transport);
    const merged: Record<string, string> = openCredentials(ctx, current);
    // Another transport's credentials mean nothing to this one: they are dropped.
    const allowed = [
      ...credentialNamesOf(provider, transport),
      ...(sandbox ? (SANDBOX_CREDENTIALS[provider] ?? []) : []),
    ];
    for (const k of Object.keys(merged)) if (!allowed.includes(k)) delete merged[k];
    for (const [k, v] of Object.entries(input.credentials ?? {})) {
      if (v === null) delete merged[k];
      else merged[k] = v;
    }
    // An account leaving the sandbox keeps none of the sandbox's own credentials.
    if (!sandbox) for (const k of SANDBOX_CREDENTIALS[provider] ?? []) delete merged[k];
    checkAwsKeyPair(merged, transport);
    Object.assign(patch, seal(ctx, merged));
  }
  try {
    const [row] = await ctx.db.update(a).set(patch).where(eq(a.id, id)).returning();
    return channelAccountView(row!);
  } catch (err) {
    if (isUniqueViolation(err)) throw new AppError('conflict', `another ${provider} account has that identifier`);
    throw err;
  }
}

/** Soft delete: messages keep pointing at the account; webhooks for it stop being accepted. */
export async function deleteChannelAccount(ctx: TenantContext, id: number): Promise<void> {
  const { channelAccounts: a } = ctx.tenant.tables;
  const [row] = await ctx.db
    .update(a)
    .set({ deletedAt: new Date(), status: 'deleted', updatedAt: new Date() })
    .where(and(eq(a.id, id), isNull(a.deletedAt)))
    .returning({ id: a.id });
  if (!row) throw notFound(`channel account ${id}`);
}

/** Environment fallbacks for accounts that carry no credentials of their own (DESIGN Appendix A). */
export interface CredentialFallbacks {
  WHATSAPP_API_KEY?: string | undefined;
  TWILIO_ACCOUNT_SID?: string | undefined;
  TWILIO_AUTH_TOKEN?: string | undefined;
  SENDGRID_API_KEY?: string | undefined;
  AWS_ACCESS_KEY_ID?: string | undefined;
  AWS_SECRET_ACCESS_KEY?: string | undefined;
  AWS_SESSION_TOKEN?: string | undefined;
}

/** The environment's AWS key pair, used only as a pair, and only when the account has no key of its own. */
function awsFallback(env: CredentialFallbacks, own: Record<string, string>): Record<string, string | undefined> {
  if (own.access_key_id || !env.AWS_ACCESS_KEY_ID || !env.AWS_SECRET_ACCESS_KEY) return {};
  return {
    access_key_id: env.AWS_ACCESS_KEY_ID,
    secret_access_key: env.AWS_SECRET_ACCESS_KEY,
    session_token: env.AWS_SESSION_TOKEN,
  };
}

/** The account's credentials, with the environment's fallbacks filling what it lacks. */
export function resolveCredentials(
  ctx: Pick<TenantContext, 'secrets'>,
  row: ChannelAccountRow,
  env: CredentialFallbacks,
): Record<string, string> {
  const own = openCredentials(ctx, row);
  const fallback: Record<string, string | undefined> =
    row.provider === 'whatsapp'
      ? { access_token: env.WHATSAPP_API_KEY }
      : row.provider === 'sms' || row.provider === 'twilio_whatsapp'
        ? { account_sid: env.TWILIO_ACCOUNT_SID, auth_token: env.TWILIO_AUTH_TOKEN }
        : row.provider === 'email'
          ? row.transport === 'ses'
            ? awsFallback(env, own)
            : { api_key: env.SENDGRID_API_KEY }
          : {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(fallback)) if (v) out[k] = v;
  return { ...out, ...own };
}

/** Live accounts of these providers with these identifiers (all of the providers' accounts when none given). */
export async function findAccountsByIdentifier(
  ctx: TenantContext,
  providers: readonly string[],
  identifiers: readonly string[] | null,
): Promise<ChannelAccountRow[]> {
  const { channelAccounts: a } = ctx.tenant.tables;
  return ctx.db
    .select()
    .from(a)
    .where(
      and(
        inArray(a.provider, [...providers]),
        isNull(a.deletedAt),
        eq(a.status, 'active'),
        identifiers ? inArray(a.identifier, [...identifiers]) : undefined,
      ),
    )
    .orderBy(asc(a.id));
}

/**
 * The provider confirmed that `topic` no longer posts to this account (SNS UnsubscribeConfirmation): recorded on the
 * account's transport settings, for the admin to see; the account stays as it is.
 */
export async function markUnsubscribed(ctx: TenantContext, account: ChannelAccountRow, topic: string): Promise<void> {
  const { channelAccounts: a } = ctx.tenant.tables;
  const at = new Date().toISOString();
  await ctx.db
    .update(a)
    .set({
      transportSettings: sql`jsonb_set(${a.transportSettings}, '{unsubscribed_topics}', coalesce(${a.transportSettings}->'unsubscribed_topics', '{}'::jsonb) || jsonb_build_object(${topic}::text, ${at}::text))`,
      updatedAt: new Date(),
    })
    .where(eq(a.id, account.id));
}
