export { createGatewayApp } from './app.js';
