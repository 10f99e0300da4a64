/** Outgoing webhooks (issue 15): endpoints, the delivery worker's batches, the delivery log, replay, sweeper, retention. */
export { checkEndpointUrl, refusedRange } from './address.js';
export { attemptDelivery, deliverAndSchedule, deliverDue, deliverEndpoint } from './deliver.js';
export {
  type DeliveryQuery,
  type DeliveryView,
  findDelivery,
  listDeliveries,
  pruneDeliveries,
  replayDeliveries,
  retryDelivery,
  runReplay,
  sendTestEvent,
  sweepDeliveries,
} from './deliveries.js';
export {
  createEndpoint,
  deleteEndpoint,
  type EndpointInput,
  type EndpointView,
  endpointView,
  findEndpoint,
  listEndpoints,
  rotateSecret,
  updateEndpoint,
  type WebhookPolicy,
  webhookPolicy,
} from './endpoints.js';
export { newSecret, signature, USER_AGENT } from './send.js';
export { type DeliverySettings, deliverySettings } from './settings.js';
