// `npm run bench [-- name …]`: runs the named benchmarks (all when none is named). Each prints a
// table and writes bench/results/<name>.json.
import { readdirSync } from 'node:fs';

const here = new URL('.', import.meta.url);
const all = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && !['run.ts', 'lib.ts', 'index.ts'].includes(f))
  .map((f) => f.replace(/\.ts$/, ''))
  .sort();
const names = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const unknown = names.filter((n) => !all.includes(n));
if (unknown.length) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; available: ${all.join(', ')}`);
  process.exit(2);
}
for (const name of names.length ? names : all) {
  console.log(`\n=== bench: ${name}`);
  const mod = (await import(new URL(`./${name}.ts`, here).href)) as { run: () => Promise<void> };
  await mod.run();
}
process.exit(0);
