/**
 * Delivery status only moves forward: pending → sent → delivered → read, and failed may
 * follow pending or sent only. A late or repeated provider event never moves a message back.
 */
import type { DeliveryStatus } from '@comms/adapter-kit';

const PREDECESSORS: Record<DeliveryStatus, DeliveryStatus[]> = {
  pending: [],
  sent: ['pending'],
  delivered: ['pending', 'sent'],
  read: ['pending', 'sent', 'delivered'],
  failed: ['pending', 'sent'],
};

/** The statuses a message may be in for `next` to apply. */
export function statusPredecessors(next: DeliveryStatus): DeliveryStatus[] {
  return PREDECESSORS[next];
}

export function canMoveStatus(from: DeliveryStatus, to: DeliveryStatus): boolean {
  return PREDECESSORS[to].includes(from);
}
