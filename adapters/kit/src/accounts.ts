/** What an email channel account says about its transport: the API validates it, the SES adapter reads it. */
import { z } from 'zod';

/** How an email account's mail travels. SendGrid is what every email account used before SES, and the default. */
export const EmailTransport = z.enum(['sendgrid', 'ses']);
export type EmailTransport = z.infer<typeof EmailTransport>;

const Address = z
  .string()
  .trim()
  .toLowerCase()
  .max(320)
  .regex(/^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/, 'an email address');

/** An SES account's settings (not secret; its access key pair is a credential, write-only). */
export const SesSettings = z.object({
  /** The SES region the account sends from and receives in (`eu-west-1`). */
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'an AWS region such as eu-west-1'),
  /** The verified identity replies are sent from; the account's inbound address when absent. */
  from_email: Address.nullish(),
  /** The configuration set whose SNS event destination posts the sending events back. */
  configuration_set: z
    .string()
    .regex(/^[\w-]{1,64}$/, 'a configuration set name')
    .nullish(),
  /** More inbound addresses besides the account's identifier, all received by the same receipt rule. */
  inbound_addresses: z.array(Address).max(100).default([]),
  /** The SNS topics the account accepts notifications from; any other topic is refused (403). */
  sns_topic_arns: z
    .array(z.string().regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w-]{1,256}(\.fifo)?$/, 'an SNS topic ARN'))
    .min(1)
    .max(20),
});
export type SesSettings = z.infer<typeof SesSettings>;
