DROP INDEX "tenant_template"."webhook_deliveries_pending_idx";--> statement-breakpoint
CREATE INDEX "webhook_deliveries_due_idx" ON "tenant_template"."webhook_deliveries" USING btree ("endpoint_id","next_attempt_at") WHERE "status" = 'pending';--> statement-breakpoint
CREATE INDEX "webhook_deliveries_created_idx" ON "tenant_template"."webhook_deliveries" USING btree ("created_at");