/** What the SES adapter's AWS clients share: credentials from the account, else the SDK's own default chain. */
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
