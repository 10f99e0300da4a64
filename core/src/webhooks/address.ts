/**
 * Where outgoing webhooks may go (SSRF guard, docs/adr/0009-outgoing-webhooks.md). A tenant admin names the URL,
 * so without a guard any tenant could make our workers call the cloud metadata service, the database or an
 * internal admin port. Only public unicast addresses are allowed (ipaddr.js classifies them; no hand-written
 * ranges), checked when the endpoint is saved and again for every connection, on the addresses DNS gave at
 * that moment (a name that resolved to a public address at creation and to 127.0.0.1 later is refused then).
 * `WEBHOOK_ALLOW_PRIVATE=true` lifts it (tests, single-host installs).
 */
import { type LookupAddress, lookup as dnsLookup } from 'node:dns';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { AppError } from '../platform/errors.js';

/** Why an address is refused, or null when it is a public unicast address. */
export function refusedRange(address: string): string | null {
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    // IPv4-mapped IPv6 (::ffff:127.0.0.1) is judged as the IPv4 address it is.
    parsed = ipaddr.process(address);
  } catch {
    return 'not an IP address';
  }
  const range = parsed.range();
  return range === 'unicast' ? null : range;
}

export interface UrlPolicy {
  allowHttp: boolean;
  allowPrivate: boolean;
}

const invalid = (message: string) =>
  new AppError('unprocessable', `url ${message}`, { errors: [{ field: 'url', message }] });

/** Checks an endpoint URL before it is saved: scheme, credentials, and (unless allowed) where it resolves. */
export async function checkEndpointUrl(raw: string, policy: UrlPolicy): Promise<URL> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw invalid('is not a valid URL');
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && policy.allowHttp))
    throw invalid(policy.allowHttp ? 'must be http or https' : 'must be https');
  if (url.username || url.password) throw invalid('must not carry credentials');
  if (policy.allowPrivate) return url;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  let addresses: string[];
  if (isIP(host)) addresses = [host];
  else {
    try {
      addresses = (await lookupAll(host)).map((a) => a.address);
    } catch {
      throw invalid(`host ${host} does not resolve`);
    }
  }
  for (const address of addresses) {
    const range = refusedRange(address);
    if (range) throw invalid(`resolves to a ${range} address (${address}); only public addresses are allowed`);
  }
  return url;
}

function lookupAll(host: string): Promise<LookupAddress[]> {
  return new Promise((resolve, reject) =>
    dnsLookup(host, { all: true }, (err, addresses) => (err ? reject(err) : resolve(addresses))),
  );
}

/** An error of the connect-time check: the attempt fails with it (and is retried like any connection error). */
export class RefusedAddressError extends Error {
  override name = 'RefusedAddressError';
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for node:http(s) requests that refuses non-public addresses after resolution, so the address
 * connected to is the one checked. Literal IP hosts never reach a lookup: `sendWebhook` checks those itself.
 */
export function guardedLookup(allowPrivate: boolean) {
  return (hostname: string, options: { all?: boolean; family?: number | string }, callback: LookupCallback) => {
    dnsLookup(hostname, { ...options, all: true } as { all: true }, (err, addresses) => {
      if (err) return callback(err, options.all ? [] : '');
      if (!allowPrivate)
        for (const a of addresses) {
          const range = refusedRange(a.address);
          if (range)
            return callback(
              new RefusedAddressError(`${hostname} resolves to a ${range} address (${a.address})`),
              options.all ? [] : '',
            );
        }
      if (options.all) return callback(null, addresses);
      const first = addresses[0];
      if (!first) return callback(new Error(`${hostname} has no address`), '');
      callback(null, first.address, first.family);
    });
  };
}
