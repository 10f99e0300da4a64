/**
 * Mail that an SES receipt rule's S3 action stored (SNS carries only where): GetObject through @aws-sdk/client-s3.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html
 */
import type { S3Fetch } from './parse.js';
import { awsCredentials, keptClients } from './aws.js';

/** A received mail is bounded by SES at 40 MB (https://docs.aws.amazon.com/ses/latest/dg/quotas.html). */
const MAX_MAIL = 40 * 1024 * 1024;

// The SDK is loaded on the first S3 read: it is large, and most gateways never need it.
const s3Client = keptClients(
  () => import('@aws-sdk/client-s3'),
  (sdk, t) =>
    new sdk.S3Client({
      region: t.region,
      maxAttempts: 1,
      ...(t.endpoint ? { endpoint: t.endpoint, forcePathStyle: true } : {}),
      ...(awsCredentials(t.credentials) ? { credentials: awsCredentials(t.credentials) } : {}),
    }),
);

/** `endpoint` overrides S3's (`S3_API_URL`), path-style, so tests use a fake S3 on loopback. */
export function s3Fetcher(endpoint?: string, timeoutMs = 15_000): S3Fetch {
  return async ({ bucket, key, region }, credentials) => {
    const { sdk, client, release } = await s3Client({ region, endpoint, credentials });
    try {
      const out = await client.send(new sdk.GetObjectCommand({ Bucket: bucket, Key: key }), {
        abortSignal: AbortSignal.timeout(timeoutMs),
      });
      if (!out.Body) throw new Error('S3 answered without a body');
      const bytes = await out.Body.transformToByteArray();
      if (bytes.length > MAX_MAIL) throw new Error('the S3 object is larger than SES receives');
      return Buffer.from(bytes);
    } finally {
      release();
    }
  };
}
