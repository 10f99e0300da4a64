// The ceiling: a bare Hono route answering a fixed JSON body of the size given in BODY_BYTES.
import { readFileSync } from 'node:fs';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';

const size = Number(process.env.BODY_BYTES ?? 1000);
const body = JSON.stringify({ data: 'x'.repeat(Math.max(0, size - 12)) });
// BODY_FILE: a real API response, so the ceiling serializes the same object the API does.
const obj = process.env.BODY_FILE ? JSON.parse(readFileSync(process.env.BODY_FILE, 'utf8')) : JSON.parse(body);
const app = new Hono().get('/bare', (c) => c.json(obj));
serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info) =>
  console.log(`LISTENING http://127.0.0.1:${info.port}`),
);
