/**
 * Signed, expiring public links to one file (issue 14): what a provider that fetches files itself (Twilio's
 * MediaUrl, WhatsApp and Messenger by link) is given for an agent's outbound media. HMAC-SHA256 over tenant, media
 * id and expiry, with a key derived from ENCRYPTION_KEY; served at `GET /media-links/{tenant}/{id}` under
 * PUBLIC_BASE_URL, without a bearer token.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface MediaLinkSigner {
  /** The public URL of media `id` of `tenant`, valid for the configured time. */
  link(tenant: string, id: number, now?: number): string;
  /** Whether a link's expiry and signature hold now. */
  verify(tenant: string, id: number, expires: string | undefined, signature: string | undefined, now?: number): boolean;
}

export function createMediaLinkSigner(
  encryptionKey: string,
  publicBaseUrl: string,
  ttlSeconds: number,
): MediaLinkSigner {
  const key = createHmac('sha256', Buffer.from(encryptionKey, 'base64')).update('media-links/v1').digest();
  const base = publicBaseUrl.replace(/\/$/, '');
  const sign = (tenant: string, id: number, expires: number) =>
    createHmac('sha256', key).update(`${tenant}\n${id}\n${expires}`).digest('base64url');
  return {
    link(tenant, id, now = Date.now()) {
      const expires = Math.floor(now / 1000) + ttlSeconds;
      return `${base}/media-links/${tenant}/${id}?expires=${expires}&signature=${sign(tenant, id, expires)}`;
    },
    verify(tenant, id, expires, signature, now = Date.now()) {
      if (!expires || !signature || !/^\d{1,12}$/.test(expires)) return false;
      const at = Number(expires);
      if (at * 1000 < now) return false;
      const expected = Buffer.from(sign(tenant, id, at));
      const given = Buffer.from(signature);
      return expected.length === given.length && timingSafeEqual(expected, given);
    },
  };
}
