/**
 * `npm run simulate -- ses`: SNS notifications of SES (inbound mail, sending events) signed with the simulator's
 * certificate, which this process serves over https on 127.0.0.1 while the gateway fetches it. The gateway trusts
 * that certificate on the embedded defaults only (SNS_TRUST_SIMULATOR; never in production). Bodies come from
 * `@comms/adapter-ses/testing`, which follows AWS's documented formats.
 */
import {
  SIMULATOR_CERTIFICATE,
  SIMULATOR_PRIVATE_KEY,
  type SesEventType,
  type SnsSigning,
  sesEvent,
  sesReceived,
  signedSnsNotification,
  startSnsEndpoint,
} from '@comms/adapter-ses/testing';

export const SIM_SES = {
  identifier: 'simulator-ses@inbound.example.com',
  region: 'us-east-1',
  topic: 'arn:aws:sns:us-east-1:000000000000:comms-simulator',
} as const;

/** The Simulator's SES account: a sandbox account (its replies never reach AWS) listing the simulator's topic. */
export const simulatedSesAccount = () => ({
  provider: 'email' as const,
  identifier: SIM_SES.identifier,
  transport: 'ses' as const,
  credentials: {},
  ses: { region: SIM_SES.region, sns_topic_arns: [SIM_SES.topic] },
  sandbox: true as const,
});

/** The events `--event` plays. */
export const SIMULATED_SES_EVENTS: Record<string, SesEventType> = {
  send: 'Send',
  delivery: 'Delivery',
  open: 'Open',
  bounce: 'Bounce',
  complaint: 'Complaint',
  reject: 'Reject',
  delay: 'DeliveryDelay',
};

/** Runs `post` while the simulator's certificate is served on 127.0.0.1, with what signs for it. */
export async function withSimulatorCertificate<T>(post: (signing: SnsSigning) => Promise<T>): Promise<T> {
  const endpoint = await startSnsEndpoint({ cert: SIMULATOR_CERTIFICATE, key: SIMULATOR_PRIVATE_KEY });
  try {
    return await post({ key: SIMULATOR_PRIVATE_KEY, certUrl: endpoint.certUrl });
  } finally {
    await endpoint.close();
  }
}

/** A customer's mail as SES receives it (receipt rule → SNS action), signed. */
export function simulatedSesMail(signing: SnsSigning, o: { from: string; name: string; text: string }) {
  return signedSnsNotification(
    SIM_SES.topic,
    sesReceived({ to: SIM_SES.identifier, from: o.from, name: o.name, text: o.text }),
    signing,
  );
}

/** One sending event for the message SES accepted as `messageId`, signed. */
export function simulatedSesEvent(signing: SnsSigning, type: SesEventType, messageId: string, to: string) {
  return signedSnsNotification(SIM_SES.topic, sesEvent(type, messageId, { to }), signing);
}
