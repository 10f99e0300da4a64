/**
 * How long the fuzz properties run: a fixed seed and a few runs per target in `npm test`; `npm run fuzz` sets
 * FUZZ_RUNS (and FUZZ_SEED, random by default) for longer runs. fast-check prints the seed and the shrunk
 * counterexample of a failure; FUZZ_SEED replays it.
 */
import type fc from 'fast-check';

export const FUZZ_SEED = Number(process.env.FUZZ_SEED ?? 20261204);
export const FUZZ_RUNS = Number(process.env.FUZZ_RUNS ?? 12);

/** fast-check parameters for one target; `offset` gives each target a seed of its own from the run's seed. */
export function fuzzOptions(offset: number, runs = FUZZ_RUNS): fc.Parameters<unknown> {
  return { seed: FUZZ_SEED + offset, numRuns: runs, endOnFailure: true };
}
