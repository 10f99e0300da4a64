// The same-work ceiling of the inbound media fetch: a bare script that fetches FILES media ids (MEDIA_IDS, JSON) from a
// fake WhatsApp Cloud API (WHATSAPP_API_URL) with CONCURRENCY downloads at a time, doing what a media-fetch job does
// to the bytes with the bare tools: the two Graph steps with node:http (`GET /{media-id}` for the URL, then the URL,
// both with the bearer token), the body hashed (sha256) while it is written to a temporary file in DIR/tmp, then
// renamed to its content address DIR/ab/abcdef…. No queue, no database, no validation, no logs. WARMUP_IDS are
// fetched first, untimed. Prints `DONE <seconds> <cpu ms> <peak RSS MB>` of the measured downloads.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fetchFile } from './bare-fetch.js';

const base = process.env.WHATSAPP_API_URL!;
const warmup = JSON.parse(process.env.WARMUP_IDS ?? '[]') as string[];
const ids = JSON.parse(process.env.MEDIA_IDS!) as string[];
const dir = process.env.DIR!;
const concurrency = Number(process.env.CONCURRENCY ?? 8);

const fetchOne = (id: string) => fetchFile(base, process.env.WHATSAPP_API_KEY!, id, dir);

/** Fetches `list` with `concurrency` downloads at a time. */
async function fetchAll(list: string[]) {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < list.length) await fetchOne(list[next++]!);
    }),
  );
}

await mkdir(join(dir, 'tmp'), { recursive: true });
await fetchAll(warmup);
const started = performance.now();
const cpu = process.cpuUsage();
await fetchAll(ids);
const seconds = (performance.now() - started) / 1000;
const used = process.cpuUsage(cpu);
console.log(
  `DONE ${seconds} ${Math.round((used.user + used.system) / 1000)} ${Math.round(process.resourceUsage().maxRSS / 1024)}`,
);
