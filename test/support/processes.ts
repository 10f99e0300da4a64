/**
 * The service as separate processes on this host, the way a supervisor runs it: started with a command, read from
 * its output, signalled, and its process tree followed through /proc (Linux).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { connect } from 'node:net';

const root = new URL('../../', import.meta.url).pathname;

/** Every process below `pid`, from /proc. */
export function descendants(pid: number): number[] {
  let children: number[] = [];
  try {
    for (const task of readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/))
      if (task) children.push(Number(task));
  } catch {
    return [];
  }
  children = children.flatMap((c) => [c, ...descendants(c)]);
  return children;
}

export const alive = (pid: number) =>
  existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');

export function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** The pid among `pids` that holds the server side of the TCP connection from `clientPort` to `serverPort`. */
export function serverPidOf(clientPort: number, serverPort: number, pids: number[]): number | null {
  const hex = (n: number) => n.toString(16).toUpperCase().padStart(4, '0');
  let inode: string | null = null;
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!existsSync(table)) continue;
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10) continue;
      if (f[1]!.endsWith(`:${hex(serverPort)}`) && f[2]!.endsWith(`:${hex(clientPort)}`)) inode = f[9]!;
    }
  }
  if (!inode) return null;
  for (const pid of pids) {
    let fds: string[] = [];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`) === `socket:[${inode}]`) return pid;
      } catch {}
    }
  }
  return null;
}

export interface ServiceProcess {
  child: ChildProcess;
  output(): string;
  /** Every process of the service (the started one and all below it). */
  tree(): number[];
  /** Signals the started pid (or its whole group) and waits up to `withinMs` for every process to be gone. */
  stop(signal: NodeJS.Signals, options?: { group?: boolean; withinMs?: number }): Promise<{ left: number[] }>;
  kill(): void;
}

/**
 * Starts `command` in the project with `env` over this process's (the keys of `unset` removed), in a process group
 * of its own, and resolves once its output matches `ready`.
 */
export async function startService(
  command: string[],
  env: Record<string, string>,
  ready: RegExp,
  unset: string[] = [],
): Promise<ServiceProcess> {
  const full: Record<string, string | undefined> = { ...process.env, ...env };
  for (const key of unset) delete full[key];
  const child = spawn(command[0]!, command.slice(1), {
    cwd: root,
    env: full,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const service: ServiceProcess = {
    child,
    output: () => out,
    tree: () => [child.pid!, ...descendants(child.pid!)],
    async stop(signal, options = {}) {
      const tree = service.tree();
      process.kill(options.group ? -child.pid! : child.pid!, signal);
      const until = Date.now() + (options.withinMs ?? 12_000);
      while (tree.some(alive) && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
      const left = tree.filter(alive);
      for (const pid of left) process.kill(pid, 'SIGKILL');
      return { left };
    },
    kill() {
      // The tree first (a process that left the group still goes), then the group (a child forked meanwhile too).
      for (const pid of service.tree()) if (alive(pid)) process.kill(pid, 'SIGKILL');
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {}
    },
  };
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      service.kill(); // a service that never got ready must not outlive the test that started it
      reject(new Error(`not ready within 150 s:\n${out}`));
    }, 150_000);
    const check = () => {
      if (ready.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', check);
    child.stderr!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      service.kill();
      reject(new Error(`exited ${code} before it was ready:\n${out}`));
    });
  });
  return service;
}
