// `npm run build`: each entry point bundled ahead of time into dist/ for production (the Dockerfile runs them with
// plain `node`, no TypeScript loader). Our workspace packages (whose exports are TypeScript sources) are bundled;
// every third-party package stays an import from node_modules. Code that finds files beside its own source
// (`new URL('../migrations/', import.meta.url)`) keeps finding them: in each bundled file, `import.meta.url` is
// the URL its source had, relative to the bundle.
import { readFile } from 'node:fs/promises';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

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

await build({
  entryPoints: Object.fromEntries(Object.entries(entries).map(([name, file]) => [name, resolve(root, file)])),
  outdir,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  logLevel: 'warning',
  plugins: [ours],
});
console.log(
  `built ${Object.keys(entries)
    .map((n) => `dist/${n}.js`)
    .join(', ')}`,
);
