-- Inbound messages in one round trip (DESIGN §8). The gateway calls ingest_webhook once per verified webhook
-- and account; the function runs as one statement, so the receipt, the conversations, the messages and the
-- counters commit together or not at all. The rules that need no database (spam content rules, previews,
-- the message's fields) are worked out by the caller (core/src/inbox/ingest.ts) and passed in `p_messages`.
--
-- reopen_conversation: an archived conversation becomes open again, unless a live conversation for the same
-- contact appeared meanwhile (the partial unique index refuses; false then, and the caller uses that one).
CREATE OR REPLACE FUNCTION "tenant_template"."reopen_conversation"(p_id integer) RETURNS boolean
LANGUAGE plpgsql AS $fn$
BEGIN
  UPDATE "tenant_template"."inbox_conversations"
     SET status = 'open', archived_at = NULL, updated_at = now()
   WHERE id = p_id AND status = 'archived';
  RETURN true;
EXCEPTION WHEN unique_violation THEN
  RETURN false;
END
$fn$;
--> statement-breakpoint
-- p_messages: [{ external_id, type, content, media_url, attachments, metadata, provider_ts, sender, name,
--   refs (email threading ids), preview, max_per_minute, spam: [{ reason, when: always|first|rate, sticky }] }]
-- Returns { duplicate, webhook_id, messages: [{ stored, created, conversation?, message? }] }.
CREATE OR REPLACE FUNCTION "tenant_template"."ingest_webhook"(
  p_provider text,
  p_account integer,
  p_channel text,
  p_dedupe_key text,
  p_payload text,
  p_content_type text,
  p_processed boolean,
  p_messages jsonb
) RETURNS jsonb
LANGUAGE plpgsql AS $fn$
DECLARE
  v_webhook integer;
  v_processed timestamptz;
  m jsonb;
  v_ts timestamptz;
  v_refs text[];
  v_conv_id integer;
  v_status text;
  v_created boolean;
  v_spam boolean;
  v_cleared boolean;
  v_recent integer;
  v_max integer;
  v_rule jsonb;
  v_reason text;
  v_msg "tenant_template"."inbox_messages";
  v_conv "tenant_template"."inbox_conversations";
  v_out jsonb := '[]'::jsonb;
BEGIN
  INSERT INTO "tenant_template"."webhook_events" (provider, channel_account_id, dedupe_key, payload, content_type, processed_at)
  VALUES (p_provider, p_account, p_dedupe_key, p_payload, p_content_type, CASE WHEN p_processed THEN now() END)
  ON CONFLICT DO NOTHING
  RETURNING id INTO v_webhook;
  IF v_webhook IS NULL THEN
    SELECT id, processed_at INTO v_webhook, v_processed
      FROM "tenant_template"."webhook_events"
     WHERE provider = p_provider AND dedupe_key = p_dedupe_key;
    -- Processed before: a provider's redelivery. Not processed: an earlier attempt failed after its commit
    -- (the queue was away); go through it again, every write below is idempotent.
    IF v_processed IS NOT NULL THEN
      RETURN jsonb_build_object('duplicate', true, 'webhook_id', v_webhook);
    END IF;
  END IF;

  FOR m IN SELECT value FROM jsonb_array_elements(p_messages) LOOP
    v_ts := (m->>'provider_ts')::timestamptz;
    v_conv_id := NULL;
    v_created := false;

    -- An email answering one of ours or theirs joins that thread (reopened if archived).
    v_refs := ARRAY(SELECT jsonb_array_elements_text(coalesce(m->'refs', '[]'::jsonb)));
    IF cardinality(v_refs) > 0 THEN
      SELECT c.id, c.status INTO v_conv_id, v_status
        FROM "tenant_template"."inbox_conversations" c
       WHERE c.id = (SELECT conversation_id FROM "tenant_template"."inbox_messages"
                      WHERE channel_account_id = p_account
                        AND (external_id = ANY (v_refs) OR metadata->>'message_id' = ANY (v_refs))
                      ORDER BY id DESC LIMIT 1);
      IF v_conv_id IS NOT NULL AND v_status = 'archived'
         AND NOT "tenant_template"."reopen_conversation"(v_conv_id) THEN
        v_conv_id := NULL;
      END IF;
    END IF;

    -- The contact's live conversation, or else its latest archived one, reopened rather than replaced.
    IF v_conv_id IS NULL THEN
      SELECT c.id, c.status INTO v_conv_id, v_status
        FROM "tenant_template"."inbox_conversations" c
       WHERE c.channel_account_id = p_account AND c.channel = p_channel AND c.contact_identifier = m->>'sender'
       ORDER BY (c.status <> 'archived') DESC, c.last_message_at DESC
       LIMIT 1;
      IF v_conv_id IS NOT NULL AND v_status = 'archived'
         AND NOT "tenant_template"."reopen_conversation"(v_conv_id) THEN
        v_conv_id := NULL;
      END IF;
    END IF;

    -- A new contact. Racing webhooks meet at the partial unique index: one inserts, the others update.
    IF v_conv_id IS NULL THEN
      INSERT INTO "tenant_template"."inbox_conversations" AS c
             (channel, channel_account_id, contact_identifier, contact_name, status, last_message_at)
      VALUES (p_channel, p_account, m->>'sender', m->>'name', 'new', v_ts)
      ON CONFLICT (coalesce(channel_account_id, 0), channel, contact_identifier) WHERE status <> 'archived'
      DO UPDATE SET contact_name = coalesce(excluded.contact_name, c.contact_name)
      RETURNING c.id, (c.xmax = 0) INTO v_conv_id, v_created;
    END IF;

    -- The same message in another envelope (a provider retry) is stored once.
    INSERT INTO "tenant_template"."inbox_messages"
           (conversation_id, channel_account_id, external_id, direction, type, content, media_url, status,
            status_updated_at, attachments, metadata, provider_timestamp)
    VALUES (v_conv_id, p_account, m->>'external_id', 'in', m->>'type', m->>'content', m->>'media_url', 'delivered',
            now(), coalesce(m->'attachments', '[]'::jsonb), coalesce(m->'metadata', '{}'::jsonb), v_ts)
    ON CONFLICT DO NOTHING
    RETURNING * INTO v_msg;
    IF NOT FOUND THEN
      v_out := v_out || jsonb_build_array(jsonb_build_object('stored', false, 'created', v_created));
      CONTINUE;
    END IF;

    -- Spam: the first rule whose condition holds names the reason. An agent's "not spam" stands against every
    -- rule but the sticky ones (blocked identifiers).
    SELECT c.is_spam, coalesce((c.platform_metadata->>'spam_cleared_by_agent')::boolean, false)
      INTO v_spam, v_cleared
      FROM "tenant_template"."inbox_conversations" c WHERE c.id = v_conv_id;
    v_reason := NULL;
    IF NOT v_spam THEN
      v_max := coalesce((m->>'max_per_minute')::integer, 0);
      v_recent := 0;
      IF NOT v_created AND v_max > 0 THEN
        SELECT count(*) INTO v_recent
          FROM "tenant_template"."inbox_messages"
         WHERE conversation_id = v_conv_id AND direction = 'in' AND id <> v_msg.id
           AND created_at > now() - interval '1 minute';
      END IF;
      FOR v_rule IN SELECT value FROM jsonb_array_elements(coalesce(m->'spam', '[]'::jsonb)) LOOP
        IF v_rule->>'when' = 'always'
           OR (v_rule->>'when' = 'first' AND v_created)
           OR (v_rule->>'when' = 'rate' AND v_max > 0 AND v_recent + 1 > v_max) THEN
          IF NOT v_cleared OR coalesce((v_rule->>'sticky')::boolean, false) THEN
            v_reason := v_rule->>'reason';
          END IF;
          EXIT;
        END IF;
      END LOOP;
    END IF;

    UPDATE "tenant_template"."inbox_conversations" AS c
       SET message_count = c.message_count + 1,
           unread_count = c.unread_count + 1,
           first_message = coalesce(c.first_message, m->>'preview'),
           last_message = m->>'preview',
           last_message_at = greatest(c.last_message_at, v_ts, now()),
           last_inbound_at = greatest(c.last_inbound_at, v_ts),
           contact_name = coalesce(c.contact_name, m->>'name'),
           updated_at = now(),
           is_spam = c.is_spam OR v_reason IS NOT NULL,
           spam_reason = coalesce(v_reason, c.spam_reason)
     WHERE c.id = v_conv_id
    RETURNING c.* INTO v_conv;

    v_out := v_out || jsonb_build_array(jsonb_build_object(
      'stored', true, 'created', v_created, 'conversation', to_jsonb(v_conv), 'message', to_jsonb(v_msg)));
  END LOOP;

  RETURN jsonb_build_object('duplicate', false, 'webhook_id', v_webhook, 'messages', v_out);
END
$fn$;
