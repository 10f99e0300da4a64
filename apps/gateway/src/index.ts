export { createGatewayApp, routeWebhooks } from './app.js';
