/**
 * Mail that an SES receipt rule's S3 action stored (SNS carries only where): GetObject through @aws-sdk/client-s3.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html
 */
import type { S3Fetch } from './parse.js';
import { awsCredentials } from './aws.js';

/** A received mail is bounded by SES at 40 MB (https://docs.aws.amazon.com/ses/latest/dg/quotas.html). */
const MAX_MAIL = 40 * 1024 * 1024;

/** `endpoint` overrides S3's (`S3_API_URL`), path-style, so tests use a fake S3 on loopback. */
export function s3Fetcher(endpoint?: string, timeoutMs = 15_000): S3Fetch {
  return async ({ bucket, key, region }, credentials) => {
    // Loaded on the first S3 read: the SDK is large, and most gateways never need it.
    const { GetObjectCommand, S3Client } = await import('@aws-sdk/client-s3');
    const client = new S3Client({
      region,
      maxAttempts: 1,
      ...(endpoint ? { endpoint, forcePathStyle: true } : {}),
      ...(awsCredentials(credentials) ? { credentials: awsCredentials(credentials) } : {}),
    });
    try {
      const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }), {
        abortSignal: AbortSignal.timeout(timeoutMs),
      });
      if (!out.Body) throw new Error('S3 answered without a body');
      const bytes = await out.Body.transformToByteArray();
      if (bytes.length > MAX_MAIL) throw new Error('the S3 object is larger than SES receives');
      return Buffer.from(bytes);
    } finally {
      client.destroy();
    }
  };
}
