/** What the SES adapter's AWS clients share: credentials from the account, else the SDK's own default chain. */
import { createHash } from 'node:crypto';
import type { Credentials } from '@comms/adapter-kit';

/** The account's access key (or the environment's, resolved by the caller); undefined leaves it to the SDK's chain. */
export function awsCredentials(credentials: Credentials) {
  const accessKeyId = credentials.access_key_id;
  const secretAccessKey = credentials.secret_access_key;
  if (!accessKeyId || !secretAccessKey) return undefined;
  return {
    accessKeyId,
    secretAccessKey,
    ...(credentials.session_token ? { sessionToken: credentials.session_token } : {}),
  };
}

export interface AwsClientTarget {
  region: string;
  /** The endpoint override (`SES_API_URL`, `S3_API_URL`); AWS's own when absent. */
  endpoint?: string | undefined;
  credentials: Credentials;
}

const MAX_CLIENTS = 64;

interface Kept<C> {
  client: C;
  /** Calls using it now. */
  inFlight: number;
  /** Out of the cache: destroyed as soon as no call uses it. */
  evicted: boolean;
}

/** A client for one call: `release()` when the call is over (the client may be destroyed then). */
export interface ClientLease<Sdk, C> {
  sdk: Sdk;
  client: C;
  release(): void;
}

/**
 * One AWS SDK client per region, endpoint and key, kept for the next call: a client made per call opened new TLS
 * connections and resolved its configuration every time. `create` is called with the SDK loaded on first use (`load`),
 * so processes that never talk to AWS never load it. The key holds a hash of the credentials, not the credentials.
 * Past MAX_CLIENTS the least recently used client leaves the cache and is destroyed once its last call is released.
 */
export function keptClients<Sdk, C extends { destroy(): void }>(
  load: () => Promise<Sdk>,
  create: (sdk: Sdk, target: AwsClientTarget) => C,
): (target: AwsClientTarget) => Promise<ClientLease<Sdk, C>> {
  let sdk: Promise<Sdk> | undefined;
  const clients = new Map<string, Kept<C>>();
  const release = (kept: Kept<C>) => {
    kept.inFlight -= 1;
    if (kept.evicted && kept.inFlight === 0) kept.client.destroy();
  };
  return async (target) => {
    sdk ??= load().catch((err) => {
      sdk = undefined;
      throw err;
    });
    const loaded = await sdk;
    const creds = awsCredentials(target.credentials);
    const key = createHash('sha256')
      .update(JSON.stringify([target.region, target.endpoint ?? '', creds ?? null]))
      .digest('base64');
    let kept = clients.get(key);
    if (kept) {
      clients.delete(key); // most recently used last
    } else {
      kept = { client: create(loaded, target), inFlight: 0, evicted: false };
      if (clients.size >= MAX_CLIENTS) {
        const [oldestKey, oldest] = clients.entries().next().value as [string, Kept<C>];
        clients.delete(oldestKey);
        oldest.evicted = true;
        if (oldest.inFlight === 0) oldest.client.destroy();
      }
    }
    clients.set(key, kept);
    kept.inFlight += 1;
    const lease = kept;
    let released = false;
    return {
      sdk: loaded,
      client: lease.client,
      release: () => {
        if (released) return;
        released = true;
        release(lease);
      },
    };
  };
}
