/** What a domain service needs to act for one tenant. */
import type { Db } from '@comms/db';
import type { Principal } from './auth.js';
import type { EventBus } from './bus/index.js';
import type { Logger } from './logger.js';
import type { MediaService } from './media/store.js';
import type { Queues } from './queue/index.js';
import type { SecretBox } from './secrets.js';
import type { Tenant } from './tenants.js';

export interface TenantContext {
  db: Db;
  tenant: Tenant;
  bus: EventBus;
  queues: Queues;
  log: Logger;
  secrets: SecretBox;
  /** The media store and its limits. */
  media: MediaService;
  /** Who acts; absent for provider webhooks and jobs. */
  actor?: Principal;
}
