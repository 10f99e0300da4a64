// The README and the architecture page are what a newcomer reads first: the files they name must exist, the
// commands they show must be scripts, and the README's performance section stays a summary of docs/performance.md.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');
const DOCS = ['README.md', 'docs/architecture.md', 'docs/performance.md'];

describe('the docs', () => {
  it('name only files that exist', () => {
    const missing: string[] = [];
    for (const doc of DOCS) {
      for (const [, path] of read(doc).matchAll(
        /`((?:apps|adapters|core|db|tools|test|bench|docs)\/[\w./-]+\.(?:ts|sql|md|json))`/g,
      )) {
        if (!existsSync(new URL(path!, root))) missing.push(`${doc}: ${path}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('show only npm scripts that exist', () => {
    const scripts = Object.keys((JSON.parse(read('package.json')) as { scripts: object }).scripts);
    const shown = [...read('README.md').matchAll(/npm run ([\w:-]+)/g)].map(([, name]) => name!);
    expect(shown.length).toBeGreaterThan(5);
    expect(shown.filter((name) => !scripts.includes(name))).toEqual([]);
  });

  it("keep the README's performance section a short summary that links the tables", () => {
    const readme = read('README.md');
    const start = readme.indexOf('## Performance');
    expect(start).toBeGreaterThan(0);
    const next = readme.indexOf('\n## ', start + 1);
    const section = readme.slice(start, next === -1 ? undefined : next);
    expect(section).toContain('(docs/performance.md)');
    expect(section.split('\n').filter((line) => line.trim()).length).toBeLessThanOrEqual(8);
    expect(read('docs/performance.md')).toMatch(/\| endpoint \| req\/s/);
  });
});
