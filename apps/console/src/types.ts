/** The API's shapes the console reads (see /openapi.json); only the fields it uses. */
export interface Conversation {
  id: number;
  channel: string;
  contact_name: string | null;
  contact_identifier: string;
  status: 'new' | 'open' | 'replied' | 'qualified' | 'archived';
  priority: 'high' | 'normal' | 'low';
  is_spam: boolean;
  spam_reason: string | null;
  last_message: string | null;
  message_count: number;
  unread_count: number;
  assigned_to: string | null;
  is_lead: boolean;
  lead_id: string | null;
  last_inbound_at: string | null;
  last_message_at: string;
}

/** An attachment as the media store describes it once stored (id, mime_type, url…); older rows carry less. */
export interface Attachment {
  id?: number | string;
  mime_type?: string;
  size?: number;
  filename?: string;
  name?: string;
  status?: 'pending' | 'stored' | 'failed' | 'rejected';
  error?: string | null;
  url?: string;
  [key: string]: unknown;
}

export interface Message {
  id: number;
  conversation_id: number;
  direction: 'in' | 'out';
  type: string;
  content: string | null;
  media_url: string | null;
  status: 'pending' | 'sent' | 'delivered' | 'read' | 'failed';
  attachments: Attachment[];
  error: { code: string; message: string } | null;
  sent_by: string | null;
  created_at: string;
}

export interface QuickReply {
  id: number;
  title: string;
  content: string;
  category: string | null;
  shortcuts: string[] | null;
  is_active: boolean;
}

export interface Channel {
  id: number;
  name: string | null;
  type: 'public' | 'private' | 'direct';
  topic: string | null;
  is_member: boolean;
  unread_count: number;
  mention_count: number;
  last_activity_at: string;
}

export interface Member {
  user_id: string;
  nickname: string | null;
  role: string;
  last_read_entry_id: number;
}

export interface Entry {
  id: number;
  channel_id: number;
  user_id: string | null;
  entry_type: 'message' | 'join' | 'leave' | 'system';
  content: string | null;
  reply_to_id: number | null;
  is_edited: boolean;
  is_deleted: boolean;
  is_pinned: boolean;
  reactions: Record<string, string[]>;
  created_at: string;
}

export interface EntryPage {
  data: Entry[];
  order: 'newest_first' | 'oldest_first';
  older_cursor: string | null;
  newer_cursor: string | null;
}

export interface ChannelAccount {
  id: number;
  provider: string;
  name: string;
  identifier: string;
  credentials: string[];
  status: string;
  sandbox?: boolean;
  /** Email accounts: which transport carries their mail. */
  transport?: 'sendgrid' | 'ses' | null;
  ses?: SesSettings | null;
}

export interface SesSettings {
  region: string;
  from_email?: string | null;
  configuration_set?: string | null;
  inbound_addresses?: string[];
  sns_topic_arns: string[];
}

export interface SpamRules {
  blocked_identifiers: string[];
  max_messages_per_minute: number;
  block_link_only_first_message: boolean;
  keywords: string[];
}

export interface WebhookEndpoint {
  id: number;
  url: string;
  description: string | null;
  event_types: string[] | null;
  channels: string[] | null;
  enabled: boolean;
  disabled_reason: string | null;
  previous_secret_expires_at: string | null;
  created_at: string;
  updated_at: string;
  /** In the answer to a creation or a rotation only. */
  secret?: string;
}

export interface WebhookDelivery {
  id: number;
  endpoint_id: number;
  event_id: string;
  event_type: string;
  status: 'pending' | 'succeeded' | 'failed';
  next_attempt_at: string | null;
  last_status_code: number | null;
  last_error: string | null;
  created_at: string;
  attempts: { attempted_at: string; status_code: number | null; duration_ms: number; error: string | null }[];
}
