// `npm run build`: each entry point bundled ahead of time into dist/ for production (the Dockerfile runs them with
// plain `node`, no TypeScript loader). Our workspace packages (whose exports are TypeScript sources) are bundled;
// every third-party package stays an import from node_modules. Code that finds files beside its own source
// (`new URL('../migrations/', import.meta.url)`) keeps finding them: in each bundled file, `import.meta.url` is
// the URL its source had, relative to the bundle.
// `--if-stale` (what `npm start` runs) builds only when a source the last build read has changed since, or a bundle
// is missing: the sources and their hashes are kept in dist/.inputs.json from esbuild's metafile, so a start with
// nothing changed costs a few hashes instead of compiling TypeScript at run time. One build at a time (a lock).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { withLock } from './lock.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = resolve(root, 'dist');
const entries = {
  api: 'apps/api/src/main.ts',
  gateway: 'apps/gateway/src/main.ts',
  worker: 'apps/worker/src/main.ts',
  'all-in-one': 'apps/all-in-one/src/main.ts',
  migrate: 'tools/src/migrate.ts',
};

const ours = {
  name: 'ours-bundled-theirs-imported',
  setup(b) {
    // A bare import that is not one of our workspace packages stays external.
    b.onResolve({ filter: /^[^./]/ }, (args) =>
      args.path.startsWith('@comms/') ? undefined : { path: args.path, external: true },
    );
    b.onLoad({ filter: /\.ts$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      const fromBundle = relative(outdir, args.path).split('\\').join('/');
      return {
        contents: source.replaceAll('import.meta.url', `new URL(${JSON.stringify(fromBundle)}, import.meta.url).href`),
        loader: 'ts',
      };
    });
  },
};

const STAMP = resolve(outdir, '.inputs.json');
const LOCK = resolve(root, '.build-lock');

const hashOf = (file) =>
  createHash('sha256')
    .update(readFileSync(resolve(root, file)))
    .digest('hex');

/** Whether a bundle is missing, or a source the last build read is gone or changed. */
function isStale() {
  if (!existsSync(STAMP)) return true;
  if (Object.keys(entries).some((name) => !existsSync(resolve(outdir, `${name}.js`)))) return true;
  const { inputs } = JSON.parse(readFileSync(STAMP, 'utf8'));
  return Object.entries(inputs).some(([file, hash]) => !existsSync(resolve(root, file)) || hashOf(file) !== hash);
}

async function bundle() {
  const started = Date.now();
  // Loaded only to build: an install without dev dependencies runs the bundles it has.
  const { build } = await import('esbuild');
  const { metafile, outputFiles } = await build({
    entryPoints: Object.fromEntries(Object.entries(entries).map(([name, file]) => [name, resolve(root, file)])),
    outdir,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: true,
    logLevel: 'warning',
    metafile: true,
    absWorkingDir: root,
    plugins: [ours],
    write: false,
  });
  // Each changed file replaced whole (written beside, then renamed): a service starting from dist/ meanwhile
  // reads the old bundle or the new one, never half of one.
  mkdirSync(outdir, { recursive: true });
  for (const file of outputFiles) {
    if (existsSync(file.path) && readFileSync(file.path).equals(file.contents)) continue;
    const partial = `${file.path}.${process.pid}.partial`;
    writeFileSync(partial, file.contents);
    renameSync(partial, file.path);
  }
  const inputs = Object.fromEntries(Object.keys(metafile.inputs).map((file) => [file, hashOf(file)]));
  writeFileSync(STAMP, `${JSON.stringify({ inputs })}\n`);
  console.log(
    `built ${Object.keys(entries)
      .map((n) => `dist/${n}.js`)
      .join(', ')} in ${Date.now() - started} ms`,
  );
}

await withLock(LOCK, async () => {
  if (process.argv.includes('--if-stale') && !isStale()) return;
  await bundle();
});
