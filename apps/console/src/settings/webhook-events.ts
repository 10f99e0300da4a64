/**
 * What an outgoing webhook endpoint can subscribe to: the realtime vocabulary (DESIGN §10) less what never leaves as a
 * webhook (`typing`, `read`, admin notices), and the inbox channels it can be narrowed to. The console imports none
 * of the service's packages; test/webhooks/console-vocabulary.test.ts holds these lists to the API's.
 */
export const WEBHOOK_EVENT_TYPES = [
  'message_received',
  'message_sent',
  'message_delivered',
  'message_read',
  'message_failed',
  'message_updated',
  'conversation_created',
  'conversation_updated',
  'conversation_archived',
  'conversation_assigned',
  'conversation_qualified',
  'channel_created',
  'channel_updated',
  'channel_deleted',
  'member_joined',
  'member_left',
  'entry_created',
  'entry_edited',
  'entry_deleted',
  'reaction_added',
  'reaction_removed',
  'mention_created',
] as const;

export const WEBHOOK_CHANNELS = ['whatsapp', 'messenger', 'instagram', 'sms', 'twilio_whatsapp', 'email'] as const;
