// Builds the agent console into apps/console/dist when the built files are missing or older than the sources
// (`npm start` runs this first, so `npm install && npm start` still does everything), and prints the size of
// the JavaScript a first visit loads, gzipped, against the budget (issue 18: under 250 KB).
// `node apps/console/build.mjs --force` builds regardless; `--check` only prints whether a build is needed.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { withLock } from '../../tools/lock.mjs';

const here = dirname(fileURLToPath(import.meta.url));
export const DIST = join(here, 'dist');
const STAMP = join(DIST, '.sources');
/** Held while building: two processes starting at once (two test files, two `npm start`s) build once. */
const LOCK = join(here, '.build-lock');
/** The first-load JavaScript budget, gzipped. */
export const BUDGET_BYTES = 250 * 1024;

function filesUnder(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)],
  );
}

/** A fingerprint of everything the build reads: a fresh clone, a pull or an edit all change it. */
export function sourceFingerprint() {
  const hash = createHash('sha256');
  const inputs = [
    ...filesUnder(join(here, 'src')).filter((f) => !f.endsWith('.test.ts')),
    ...filesUnder(join(here, 'public')),
    join(here, 'index.html'),
    join(here, 'vite.config.ts'),
    join(here, 'package.json'),
  ].sort();
  for (const file of inputs) hash.update(relative(here, file)).update('\0').update(readFileSync(file)).update('\0');
  return hash.digest('hex');
}

export function isStale() {
  if (!existsSync(join(DIST, 'index.html')) || !existsSync(STAMP)) return true;
  return readFileSync(STAMP, 'utf8').trim() !== sourceFingerprint();
}

/** The scripts index.html loads at once (the entry and its modulepreloads), with their gzipped sizes. */
export function firstLoadScripts(dist = DIST) {
  const html = readFileSync(join(dist, 'index.html'), 'utf8');
  const srcs = [...html.matchAll(/<(?:script[^>]+src|link[^>]+rel="modulepreload"[^>]+href)="\/console\/([^"]+\.js)"/g)]
    .map((m) => m[1])
    .filter((v, i, all) => all.indexOf(v) === i);
  return srcs.map((src) => {
    const body = readFileSync(join(dist, src));
    return { file: src, bytes: body.length, gzip: gzipSync(body, { level: 9 }).length };
  });
}

export function reportSize(dist = DIST) {
  const scripts = firstLoadScripts(dist);
  const gzip = scripts.reduce((n, s) => n + s.gzip, 0);
  const raw = scripts.reduce((n, s) => n + s.bytes, 0);
  const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
  console.log(
    `console: first-load JavaScript ${kb(gzip)} gzipped (${kb(raw)} raw, ${scripts.length} file(s)); budget ${kb(BUDGET_BYTES)}`,
  );
  return { gzip, raw, scripts };
}

export async function buildConsole() {
  let vite;
  try {
    vite = await import('vite');
  } catch {
    // An install without dev dependencies: serve what was built, or say how to build it.
    if (existsSync(join(DIST, 'index.html'))) return false;
    console.warn('console: vite is not installed, so the console cannot be built (npm install, then npm start)');
    return false;
  }
  const started = Date.now();
  // A production build whatever the caller's NODE_ENV (React's development build is three times larger).
  process.env.NODE_ENV = 'production';
  await vite.build({ root: here, configFile: join(here, 'vite.config.ts'), logLevel: 'warn' });
  writeFileSync(STAMP, `${sourceFingerprint()}\n`);
  console.log(`console: built into ${relative(process.cwd(), DIST) || DIST} in ${Date.now() - started} ms`);
  return true;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await withLock(LOCK, main);
}

async function main() {
  const force = process.argv.includes('--force');
  if (process.argv.includes('--check')) {
    console.log(isStale() ? 'console: a build is needed' : 'console: up to date');
  } else if (force || isStale()) {
    if (await buildConsole()) {
      const { gzip } = reportSize();
      if (gzip > BUDGET_BYTES) {
        console.error('console: over the first-load budget');
        if (force) process.exitCode = 1;
      }
    }
  }
}
