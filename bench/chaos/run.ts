// `npm run chaos [-- scenario …]`: fault-injection scenarios, each bounded in time and on loopback only, each
// ending with an exact audit of what was offered, accepted, stored, sent, lost and duplicated. Prints a table per
// scenario and writes bench/results/chaos.json.
import { readdirSync } from 'node:fs';
import { printTable, writeResult } from '../lib.js';

const here = new URL('.', import.meta.url);
const all = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && !['run.ts', 'lib.ts'].includes(f))
  .map((f) => f.replace(/\.ts$/, ''))
  .sort();
const names = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const unknown = names.filter((n) => !all.includes(n));
if (unknown.length || process.argv.includes('--help')) {
  console.error(`usage: npm run chaos [-- scenario …]\nscenarios: ${all.join(', ')}`);
  process.exit(unknown.length ? 2 : 0);
}
const results: Record<string, unknown> = {};
for (const name of names.length ? names : all) {
  console.log(`\n=== chaos: ${name}`);
  const mod = (await import(new URL(`./${name}.ts`, here).href)) as { run: () => Promise<Record<string, unknown>> };
  const { faults, ...figures } = (await mod.run()) as { faults?: Record<string, unknown>[] };
  printTable([figures]);
  if (faults) printTable(faults);
  results[name] = { ...figures, faults };
}
writeResult('chaos', { scenarios: results });
process.exit(0);
