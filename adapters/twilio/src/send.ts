/**
 * Replies through the twilio SDK's messages.create, with its HTTP client pointed at `options.baseUrl`
 * (so a test can stand a fake Twilio on loopback) and its own retries off: the worker retries.
 * https://www.twilio.com/docs/messaging/api/message-resource#create-a-message-resource
 */
import {
  type Credentials,
  type OutboundMessage,
  ProviderError,
  type SendFn,
  type SendOptions,
  type SendResult,
} from '@comms/adapter-kit';
import twilio from 'twilio';

/** A RequestClient that sends Twilio's requests to another base URL. */
class RebasedRequestClient extends twilio.RequestClient {
  constructor(private readonly base: string) {
    super({ autoRetry: false, timeout: 15_000 });
  }
  // biome-ignore lint/suspicious/noExplicitAny: the SDK's RequestOptions type is not exported
  override request<TData>(opts: any) {
    const uri = new URL(opts.uri!);
    const base = new URL(this.base);
    uri.protocol = base.protocol;
    uri.host = base.host;
    uri.pathname = base.pathname.replace(/\/$/, '') + uri.pathname;
    return super.request<TData>({ ...opts, uri: uri.toString() });
  }
}

const DEFAULT_BASE = 'https://api.twilio.com';
const clients = new Map<string, RebasedRequestClient>();
function httpClient(base: string): RebasedRequestClient | undefined {
  if (base.replace(/\/$/, '') === DEFAULT_BASE) return undefined;
  let c = clients.get(base);
  if (!c) {
    c = new RebasedRequestClient(base);
    clients.set(base, c);
  }
  return c;
}

// Twilio error codes that a retry may cure: 20429 too many requests, 20500/20503 Twilio-side errors.
const TRANSIENT_CODES = new Set([20429, 20500, 20503, 30001]);

function classify(err: unknown): ProviderError {
  const e = err as { status?: number; code?: number; message?: string };
  if (typeof e.status === 'number') {
    const transient = e.status >= 500 || e.status === 429 || (e.code !== undefined && TRANSIENT_CODES.has(e.code));
    return new ProviderError(
      String(e.code ?? `http_${e.status}`),
      e.message ?? 'Twilio refused the message',
      transient,
      { cause: err },
    );
  }
  return new ProviderError('network', e.message ?? String(err), true, { cause: err });
}

function sender(whatsapp: boolean): SendFn {
  const address = (n: string) => (whatsapp ? `whatsapp:${n.replace(/^whatsapp:/i, '')}` : n);
  return async (message: OutboundMessage, credentials: Credentials, options: SendOptions): Promise<SendResult> => {
    const sid = credentials.account_sid;
    const token = credentials.auth_token;
    if (!sid || !token) throw new ProviderError('no_credentials', 'the account has no account_sid/auth_token', false);
    const client = twilio(sid, token, { httpClient: httpClient(options.baseUrl), autoRetry: false });
    if (message.type !== 'text' && !message.media_url)
      throw new ProviderError('invalid_message', `a ${message.type} message needs media_url`, false);
    try {
      const created = await client.messages.create({
        from: address(message.from),
        to: address(message.to),
        ...(message.text ? { body: message.text } : {}),
        ...(message.media_url ? { mediaUrl: [message.media_url] } : {}),
        ...(message.status_callback_url ? { statusCallback: message.status_callback_url } : {}),
      });
      return { provider_message_id: created.sid };
    } catch (err) {
      throw classify(err);
    }
  };
}

/** SMS/MMS from a Twilio number. */
export const sendTwilioSms: SendFn = sender(false);
/** WhatsApp through Twilio: both addresses get the `whatsapp:` prefix. */
export const sendTwilioWhatsApp: SendFn = sender(true);
