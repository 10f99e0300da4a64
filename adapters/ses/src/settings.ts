/** An SES email account's transport settings (not secret; the access key pair is a credential). */
import { z } from 'zod';

export const SesSettings = z.object({
  /** The SES region the account sends from and receives in (`eu-west-1`). */
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'an AWS region such as eu-west-1'),
  /** The verified identity replies are sent from; the inbound address by default. */
  from_email: z.string().max(320).nullish(),
  /** The configuration set whose SNS event destination posts the sending events back. */
  configuration_set: z.string().max(64).nullish(),
  /** The SNS topics the account accepts notifications from. */
  sns_topic_arns: z.array(z.string()).default([]),
});
export type SesSettings = z.infer<typeof SesSettings>;
