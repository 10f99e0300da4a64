/**
 * The agent console (apps/console) as built files: `/console` and every path below it answer the single page
 * (index.html, never cached, so a new build is picked up at once); `/console/assets/*` are content-hashed and
 * cached for a year. `/` redirects to the console. The console is a client of the public API like any other:
 * this file only serves its files.
 */
import { readFile } from 'node:fs/promises';
import { extname, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Context } from 'hono';
import { router } from '../lib/env.js';
import { problemResponse } from '../lib/problem.js';

/** Where `npm start` (apps/console/build.mjs) writes the build; `import.meta.url` also holds in the bundles. */
const DIST = fileURLToPath(new URL('../../../console/dist/', import.meta.url));

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
  '.map': 'application/json',
};

// Scripts and styles from this origin only; the WebSocket and the API on the same origin; images may come from
// the media URLs (same origin) or from providers' https links shown inline.
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob: https:",
  "connect-src 'self' ws: wss:",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'self'",
].join('; ');

const NOT_BUILT =
  'the console is not built: npm start builds it (node apps/console/build.mjs); see the README, "The agent console"';

async function sendFile(c: Context, file: string, cache: string) {
  let body: Buffer;
  try {
    body = await readFile(file);
  } catch {
    return null;
  }
  return c.body(new Uint8Array(body), 200, {
    'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
    'cache-control': cache,
    'content-security-policy': CSP,
    'referrer-policy': 'no-referrer',
  });
}

async function page(c: Context) {
  return (await sendFile(c, resolve(DIST, 'index.html'), 'no-cache')) ?? problemResponse(503, NOT_BUILT);
}

export function consoleRoutes() {
  const dist = DIST;
  return router()
    .get('/', (c) => c.redirect('/console/', 302))
    .get('/console', (c) => c.redirect('/console/', 301))
    .get('/console/assets/*', async (c) => {
      const name = c.req.path.slice('/console/assets/'.length);
      const file = resolve(dist, 'assets', name);
      // Only files inside assets/: no `..` walks out of it.
      if (!name || !file.startsWith(resolve(dist, 'assets') + sep))
        return problemResponse(404, `no console asset ${name}`);
      return (
        (await sendFile(c, file, 'public, max-age=31536000, immutable')) ??
        problemResponse(404, `no console asset ${name}`)
      );
    })
    .get(
      '/console/favicon.svg',
      async (c) =>
        (await sendFile(c, resolve(dist, 'favicon.svg'), 'public, max-age=86400')) ??
        problemResponse(404, 'no favicon'),
    )
    .get('/console/', page)
    .get('/console/*', page);
}
