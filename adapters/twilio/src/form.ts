/** Twilio posts application/x-www-form-urlencoded bodies; a repeated field keeps its last value. */
import type { RawRequest } from '@comms/adapter-kit';

export function formParams(req: RawRequest): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(new TextDecoder().decode(req.body)));
}

/** `whatsapp:+14155550100` → `+14155550100`. */
export function stripWhatsApp(address: string): string {
  return address.replace(/^whatsapp:/i, '');
}
