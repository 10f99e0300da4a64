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
/** An evicted client is closed this long after, once what it was sending has had its time. */
const CLOSE_AFTER_MS = 60_000;

/**
 * One AWS SDK client per region, endpoint and key, kept for the next call: a client made per call opened new TLS
 * connections and resolved its configuration every time. `create` is called with the SDK loaded on first use (`load`),
 * so processes that never talk to AWS never load it. The key holds a hash of the credentials, not the credentials.
 */
export function keptClients<Sdk, C extends { destroy(): void }>(
  load: () => Promise<Sdk>,
  create: (sdk: Sdk, target: AwsClientTarget) => C,
): (target: AwsClientTarget) => Promise<{ sdk: Sdk; client: C }> {
  let sdk: Promise<Sdk> | undefined;
  const clients = new Map<string, C>();
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
    let client = clients.get(key);
    if (client) {
      clients.delete(key); // most recently used last
    } else {
      client = create(loaded, target);
      if (clients.size >= MAX_CLIENTS) {
        const [oldestKey, oldest] = clients.entries().next().value as [string, C];
        clients.delete(oldestKey);
        setTimeout(() => oldest.destroy(), CLOSE_AFTER_MS).unref();
      }
    }
    clients.set(key, client);
    return { sdk: loaded, client };
  };
}
