// `npm run fuzz -- [--runs N] [--seed S] [target …]`: the fuzz properties of test/fuzz with N runs per target
// (default 500) from seed S (default: random, printed, so that a failure can be replayed with --seed).
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';

const usage = `usage: npm run fuzz -- [--runs N] [--seed S] [target …]

  --runs N   runs per target (per API operation, per adapter, per provider); default 500
  --seed S   the first seed; default random. A failure prints its seed and counterexample: replay with --seed
  target     test/fuzz files to run (api, …); default all`;

let values: { runs?: string; seed?: string; help?: boolean };
let positionals: string[];
try {
  ({ values, positionals } = parseArgs({
    allowPositionals: true,
    options: { runs: { type: 'string' }, seed: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  }));
} catch (err) {
  console.error(`${(err as Error).message}\n\n${usage}`);
  process.exit(2);
}
if (values.help) {
  console.log(usage);
  process.exit(0);
}
const runs = values.runs ?? '500';
const seed = values.seed ?? String(Math.floor(Math.random() * 2 ** 31));
if (!/^\d+$/.test(runs) || !/^-?\d+$/.test(seed)) {
  console.error(`--runs and --seed take whole numbers\n\n${usage}`);
  process.exit(2);
}
console.log(`fuzz: ${runs} runs per target, seed ${seed}`);
const files = positionals.length
  ? positionals.map((t) => `test/fuzz/${t.replace(/(\.test)?\.ts$/, '')}.test.ts`)
  : ['test/fuzz'];
const result = spawnSync('npx', ['vitest', 'run', '--project', 'integration', '--testTimeout', '3600000', ...files], {
  stdio: 'inherit',
  env: { ...process.env, FUZZ_RUNS: runs, FUZZ_SEED: seed },
});
if (result.status !== 0)
  console.log(
    `fuzz: failed; replay with npm run fuzz -- --runs ${runs} --seed ${seed} ${positionals.join(' ')}`.trim(),
  );
process.exit(result.status ?? 1);
