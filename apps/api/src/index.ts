export { createApiApp, type ApiApp, type ApiAppOptions } from './app.js';
export type { ApiEnv } from './lib/env.js';
export { router } from './lib/env.js';
export { problemResponse, appErrorResponse } from './lib/problem.js';
export * as openapi from './lib/openapi.js';
export { type FetchHandler, listen, type RunningServer } from '@comms/core/http';
export { attachRealtime, type RealtimeHub } from './ws/hub.js';
export { type ServedApi, serveApi } from './serve.js';
