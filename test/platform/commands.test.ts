// The command-line tools as a newcomer runs them (issue 21 point 12): --help with every option, one line (no stack
// trace) for a bad option or value, and an unknown tenant told apart from a service that is not running.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SIMULATED_PROVIDERS } from '@comms/tools/webhooks';
import { TEST_JWT_SECRET } from '../support/env.js';
import { freePort } from '../support/ports.js';
import { type Stack, startStack } from '../support/stack.js';

const root = new URL('../../', import.meta.url).pathname;

function run(script: string, args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn('npm', ['run', '-s', script, '--', ...args], {
      cwd: root,
      env: { ...process.env, JWT_SECRET: TEST_JWT_SECRET, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** One line on stderr, no stack trace, no Node error code. */
function oneLine(stderr: string) {
  const lines = stderr.trim().split('\n');
  expect(lines, stderr).toHaveLength(1);
  expect(stderr).not.toMatch(/\n\s+at |ERR_PARSE_ARGS|TypeError/);
  return lines[0]!;
}

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack.close();
});

describe('npm run token', () => {
  it('--help lists every option; a bad option or value is one line and exit 2', async () => {
    const help = await run('token', ['--help']);
    expect(help.code).toBe(0);
    for (const option of ['--tenant', '--role', '--sub', '--service', '--expires', '--help'])
      expect(help.stdout).toContain(option);
    for (const [args, says] of [
      [['--bogus'], /Unknown option '--bogus'.*--help/],
      [['--role', 'boss'], /--role must be one of super_admin, tenant_admin, tenant_user/],
      [['--expires', 'soon'], /--expires takes/],
      [['--sub', 'nobody'], /--sub takes a user id/],
    ] as const) {
      const bad = await run('token', [...args]);
      expect(bad.code, args.join(' ')).toBe(2);
      expect(oneLine(bad.stderr)).toMatch(says);
    }
  });
});

describe('npm run simulate', () => {
  it('--help lists every provider and option', async () => {
    const help = await run('simulate', ['--help']);
    expect(help.code).toBe(0);
    for (const provider of SIMULATED_PROVIDERS) expect(help.stdout).toContain(provider);
    for (const option of ['--tenant', '--from', '--name', '--text', '--url']) expect(help.stdout).toContain(option);
  });

  it('says in one line what is wrong: an option, a provider, a tenant, a service that is not there', async () => {
    const bogus = await run('simulate', ['whatsapp', '--bogus']);
    expect(bogus.code).toBe(2);
    expect(oneLine(bogus.stderr)).toMatch(/Unknown option '--bogus'/);
    const none = await run('simulate', []);
    expect(none.code).toBe(2);
    expect(oneLine(none.stderr)).toContain(SIMULATED_PROVIDERS.join(', '));
    const unknown = await run('simulate', ['fax']);
    expect(unknown.code).toBe(2);
    expect(oneLine(unknown.stderr)).toMatch(/unknown provider 'fax'/);

    const tenant = await run('simulate', ['whatsapp', '--tenant', 'nosuch', '--url', stack.url]);
    expect(tenant.code).toBe(1);
    expect(oneLine(tenant.stderr)).toMatch(
      /tenant 'nosuch' does not exist at .*: create it with POST \/api\/v1\/tenants/,
    );

    const down = await run('simulate', ['whatsapp', '--url', `http://127.0.0.1:${await freePort()}`]);
    expect(down.code).toBe(1);
    expect(oneLine(down.stderr)).toMatch(/cannot reach the service at .*: is it running \(npm start\)\?/);
  });

  it('posts to a running service for a tenant that exists', async () => {
    const slug = await stack.createTenant('cmd');
    const ok = await run('simulate', ['whatsapp', '--tenant', slug, '--url', stack.url, '--text', 'Hi']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/whatsapp webhook → 200/);
  });
});

describe('npm run db:migrate', () => {
  it('--help says what it does; a bad option is one line', async () => {
    const help = await run('db:migrate', ['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/registry and every tenant schema/);
    const bad = await run('db:migrate', ['--all']);
    expect(bad.code).toBe(2);
    expect(oneLine(bad.stderr)).toMatch(/Unknown option '--all'/);
  });
});
