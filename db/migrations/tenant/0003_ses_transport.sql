ALTER TABLE "tenant_template"."channel_accounts" ADD COLUMN "transport" text;--> statement-breakpoint
ALTER TABLE "tenant_template"."channel_accounts" ADD COLUMN "transport_settings" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
-- Existing email accounts are SendGrid's: the transport every email account had before SES.
UPDATE "tenant_template"."channel_accounts" SET "transport" = 'sendgrid' WHERE "provider" = 'email';
