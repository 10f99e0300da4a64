// Property-based fuzzing of every adapter's inbound half (issue 17): accountIdentifiers, verify and parse over
// documented webhooks (from the adapters' testing kits) mutated in every field — wrong types, deletions, deep
// nesting, huge arrays, NUL, lone surrogates, extreme numbers — and over truncated and arbitrary bytes.
// Properties: verify never throws; accountIdentifiers and parse return, or throw the kit's MalformedPayloadError
// and nothing else; every event parse returns satisfies the kit's NormalizedEvent schema; no input takes longer
// than a second per MiB. `npm test` runs a fixed seed; `npm run fuzz -- adapters --runs N` runs longer.
import { MalformedPayloadError, NormalizedEvent } from '@comms/adapter-kit';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fuzzOptions } from './options.js';
import { rawRequests, webhookTargets } from './webhooks.js';

/** Runs one step; returns its result, or undefined when it threw the kit's error. Any other throw fails. */
async function allowed<T>(step: string, fn: () => T | Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof MalformedPayloadError) return undefined;
    throw new Error(
      `${step} threw ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`.slice(0, 500),
    );
  }
}

const TARGETS = webhookTargets('https://comms.example.com', 'acme');

describe('adapters under generated webhooks', () => {
  it.each(TARGETS.map((t, i) => [t.name, t, i] as const))('%s', async (_name, target, index) => {
    await fc.assert(
      fc.asyncProperty(rawRequests(target), async (make) => {
        const raw = await make();
        // The gateway refuses a body over WEBHOOK_BODY_LIMIT (10 MiB) before any adapter sees it.
        fc.pre(raw.body.length <= 10 * 2 ** 20);
        const started = performance.now();
        await allowed('accountIdentifiers', () => target.adapter.accountIdentifiers(raw));
        const verdict = await target.adapter.verify(raw, target.credentials);
        expect(typeof verdict.ok).toBe('boolean');
        const events = await allowed('parse', () => target.adapter.parse(raw));
        for (const event of events ?? []) {
          const checked = NormalizedEvent.safeParse(event);
          expect(
            checked.success,
            checked.success
              ? ''
              : `an event outside the kit's schema: ${JSON.stringify(checked.error.issues).slice(0, 400)}`,
          ).toBe(true);
        }
        // Linear at worst: a second, and a second more per MiB of body.
        expect(performance.now() - started).toBeLessThan(1_000 * (1 + raw.body.length / 2 ** 20));
      }),
      fuzzOptions(1_000 + index, Math.max(40, Number(process.env.FUZZ_RUNS ?? 0))),
    );
  });
});
