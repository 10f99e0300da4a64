/** How outgoing webhooks are delivered (the WEBHOOK_* settings), and the retry schedule they give. */
export interface DeliverySettings {
  timeoutMs: number;
  /** Seconds before each attempt of a round (the first included). */
  scheduleSeconds: number[];
  disableAfterMs: number;
  allowPrivate: boolean;
  endpointConcurrency: number;
}

export function deliverySettings(config: {
  WEBHOOK_TIMEOUT_MS: number;
  WEBHOOK_RETRY_SCHEDULE: number[];
  WEBHOOK_DISABLE_AFTER_MS: number;
  WEBHOOK_ALLOW_PRIVATE: boolean;
  WEBHOOK_ENDPOINT_CONCURRENCY: number;
}): DeliverySettings {
  return {
    timeoutMs: config.WEBHOOK_TIMEOUT_MS,
    scheduleSeconds: config.WEBHOOK_RETRY_SCHEDULE,
    disableAfterMs: config.WEBHOOK_DISABLE_AFTER_MS,
    allowPrivate: config.WEBHOOK_ALLOW_PRIVATE,
    endpointConcurrency: config.WEBHOOK_ENDPOINT_CONCURRENCY,
  };
}

/** The delay before attempt `index` (0-based) of a round, jittered by ±20 % so retries of many spread out. */
export function retryDelayMs(settings: DeliverySettings, index: number): number | null {
  const seconds = settings.scheduleSeconds[index];
  if (seconds === undefined) return null;
  return Math.round(seconds * 1000 * (0.8 + Math.random() * 0.4));
}
