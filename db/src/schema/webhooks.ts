/**
 * Outgoing webhooks (issue 15): the tenant's endpoints, one delivery row per event and endpoint (the outbox,
 * written in the transaction of the change that caused the event), and every attempt made to deliver it.
 */
import { sql } from 'drizzle-orm';
import { boolean, index, integer, jsonb, type PgSchema, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date', precision: 3 });
const id = () => integer('id').primaryKey().generatedByDefaultAsIdentity();

export function buildWebhookTables(schema: PgSchema) {
  const webhookEndpoints = schema.table('webhook_endpoints', {
    id: id(),
    url: text('url').notNull(),
    description: text('description'),
    /** Event types delivered; null: all of them. */
    eventTypes: jsonb('event_types').$type<string[] | null>(),
    /** Inbox channels (`whatsapp`, `email`, …) whose events are delivered; null: every event. */
    channels: jsonb('channels').$type<string[] | null>(),
    enabled: boolean('enabled').notNull().default(true),
    disabledReason: text('disabled_reason'),
    /** The signing secret (`whsec_…`), sealed with ENCRYPTION_KEY. */
    secretEncrypted: text('secret_encrypted').notNull(),
    /** The secret before the last rotation: it keeps signing beside the new one until `previous_secret_expires_at`. */
    previousSecretEncrypted: text('previous_secret_encrypted'),
    previousSecretExpiresAt: ts('previous_secret_expires_at'),
    /** Since when every attempt has failed (null after a success): past WEBHOOK_DISABLE_AFTER_MS it is disabled. */
    failingSince: ts('failing_since'),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  });

  const webhookDeliveries = schema.table(
    'webhook_deliveries',
    {
      id: id(),
      endpointId: integer('endpoint_id')
        .notNull()
        .references(() => webhookEndpoints.id, { onDelete: 'cascade' }),
      /** The `webhook-id` header: one per event, the same for every attempt and every replay. */
      eventId: text('event_id').notNull(),
      eventType: text('event_type').notNull(),
      /** The exact request body, `{"type","timestamp","data"}`, so every attempt sends the same bytes. */
      payload: text('payload').notNull(),
      /** `pending`, `succeeded` or `failed` (attempts exhausted, endpoint gone or disabled). */
      status: text('status').notNull().default('pending'),
      attempts: integer('attempts').notNull().default(0),
      nextAttemptAt: ts('next_attempt_at'),
      /** An attempt is in flight until then (a worker claimed the row); a crashed one frees it by expiring. */
      lockedUntil: ts('locked_until'),
      lastAttemptAt: ts('last_attempt_at'),
      lastStatusCode: integer('last_status_code'),
      lastError: text('last_error'),
      createdAt: ts('created_at').notNull().defaultNow(),
    },
    (t) => [
      uniqueIndex('webhook_deliveries_endpoint_event_key').on(t.endpointId, t.eventId),
      index('webhook_deliveries_endpoint_idx').on(t.endpointId, t.id),
      // An endpoint's due rows, for the delivery job's claim and the sweeper's scan: only rows still to deliver.
      index('webhook_deliveries_due_idx').on(t.endpointId, t.nextAttemptAt).where(sql`"status" = 'pending'`),
      // The retention's prune, oldest first.
      index('webhook_deliveries_created_idx').on(t.createdAt),
    ],
  );

  const webhookDeliveryAttempts = schema.table(
    'webhook_delivery_attempts',
    {
      id: id(),
      deliveryId: integer('delivery_id')
        .notNull()
        .references(() => webhookDeliveries.id, { onDelete: 'cascade' }),
      attemptedAt: ts('attempted_at').notNull().defaultNow(),
      /** The receiver's HTTP status; null when no answer came (timeout, refused connection). */
      statusCode: integer('status_code'),
      durationMs: integer('duration_ms').notNull(),
      /** The first 1 KiB of the answer's body, as text. */
      responseBody: text('response_body'),
      error: text('error'),
    },
    (t) => [index('webhook_delivery_attempts_delivery_idx').on(t.deliveryId, t.id)],
  );

  return { webhookEndpoints, webhookDeliveries, webhookDeliveryAttempts };
}
