/**
 * Processes per host (API_PROCESSES, GATEWAY_PROCESSES, WORKER_PROCESSES): with more than one, the process a
 * supervisor starts becomes a primary that forks them through node:cluster, so HTTP processes share one
 * listening port (the primary accepts and hands connections round-robin), and stays their supervisor:
 *
 * - a process that dies is forked again (after a pause that grows while they keep dying);
 * - SIGTERM or SIGINT, to the primary or to the whole process group, drains every process once (a second signal
 *   does not cut the drain short) and the primary exits when the last one has, within STOP_DEADLINE_MS + 1 s;
 * - `/metrics` on any HTTP process answers for all of them: it asks the primary, which gathers every process's
 *   registry and sums them (prom-client's AggregatorRegistry).
 *
 * With one process (the default, and always on the embedded defaults) nothing is forked: the process serves.
 */
import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';
import { type Config, ConfigError, loadConfig } from './config.js';
import { createLogger, type Logger } from './logger.js';
import { runProcess, STOP_DEADLINE_MS } from './process.js';

/** The role the primary gives a forked process (its environment is how node:cluster passes it on). */
const ROLE = 'COMMS_PROCESS_ROLE';
const READY = 'comms:ready';
const METRICS_REQ = 'comms:metrics-req';
const METRICS_RES = 'comms:metrics-res';

export interface Running {
  close(): Promise<void>;
  /** Where an HTTP process listens, for the primary's one log line. */
  url?: string;
}

export interface ServeOptions<R extends string> {
  /** Names the service in logs: `api`, `gateway`, `worker`, `all-in-one`. */
  name: string;
  /** Checks the configuration before anything starts (e.g. requireExternalServices). */
  check?: (config: Config) => void;
  /** How many processes of each role this host runs. */
  processes: (config: Config) => Record<R, number>;
  /** The role that runs when one process serves everything (the default). */
  single: NoInfer<R> | 'single';
  /** Starts one process of a role ('single' when one process serves). */
  start: (role: R | 'single', config: Config) => Promise<Running>;
  /** In the primary, before it forks (migrations, a demo tenant). */
  prepare?: (config: Config, log: Logger) => Promise<void>;
  /** In the primary, once every process is ready (a banner). */
  ready?: (config: Config, log: Logger, urls: string[]) => Promise<void> | void;
}

/** Whether this process was forked by a primary (and so serves one role of several processes). */
export function isClusterProcess(): boolean {
  return cluster.isWorker && Boolean(process.env[ROLE]);
}

export async function serveProcesses<R extends string>(options: ServeOptions<R>): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(process.env);
    options.check?.(config);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
  if (isClusterProcess()) {
    const role = process.env[ROLE] as R;
    await runProcess(async () => {
      const running = await options.start(role, config);
      process.send?.({ type: READY, url: running.url });
      return running;
    });
    // The primary is gone (killed outright): nobody supervises or hands out connections; stop.
    process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));
    return;
  }
  const groups = options.processes(config);
  const roleCount = Object.keys(groups).length;
  const total = Object.values<number>(groups).reduce((a, b) => a + b, 0);
  const embedded = !config.DATABASE_URL || !config.REDIS_URL;
  if (total <= roleCount || embedded) {
    // Each role once (the default): one process serves, as before processes per host existed.
    if (total > roleCount)
      config.warnings.push(
        `${describe(groups)} asked for, but the embedded defaults (PGlite and the in-process queue, without ` +
          'DATABASE_URL and REDIS_URL) run in one process: serving from one',
      );
    await runProcess(() => options.start(options.single, config));
    return;
  }
  await runPrimary(options, config, groups);
}

function describe(groups: Record<string, number>): string {
  return Object.entries(groups)
    .map(([role, n]) => `${n} ${role} process${n === 1 ? '' : 'es'}`)
    .join(' and ');
}

async function runPrimary<R extends string>(options: ServeOptions<R>, config: Config, groups: Record<R, number>) {
  const log = createLogger({ level: config.LOG_LEVEL, format: config.LOG_FORMAT }).child({ primary: options.name });
  try {
    await options.prepare?.(config, log);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
  const aggregator = new AggregatorRegistry();
  const roles = new Map<number, R>();
  const started = new Map<number, number>();
  const urls = new Set<string>();
  let stopping = false;
  let failures = 0;
  let waitingFor = Object.values<number>(groups).reduce((a, b) => a + b, 0);

  const fork = (role: R) => {
    const worker = cluster.fork({ [ROLE]: role });
    roles.set(worker.id, role);
    started.set(worker.id, Date.now());
    return worker;
  };

  cluster.on('message', (worker: Worker, message: { type?: string; id?: number; url?: string }) => {
    if (message?.type === READY) {
      if (message.url) urls.add(message.url);
      if (waitingFor > 0 && --waitingFor === 0) {
        const what = urls.size ? `${options.name} listening` : `${options.name} started`;
        log.info({ processes: describe(groups), urls: [...urls] }, what);
        void options.ready?.(config, log, [...urls]);
      }
    } else if (message?.type === METRICS_REQ) {
      aggregator.clusterMetrics().then(
        (text) => worker.isConnected() && worker.send({ type: METRICS_RES, id: message.id, text }),
        (err: Error) => worker.isConnected() && worker.send({ type: METRICS_RES, id: message.id, error: err.message }),
      );
    }
  });

  cluster.on('exit', (worker, code, signal) => {
    const role = roles.get(worker.id)!;
    const lived = Date.now() - (started.get(worker.id) ?? 0);
    roles.delete(worker.id);
    started.delete(worker.id);
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) done();
      return;
    }
    failures = lived > 30_000 ? 1 : failures + 1;
    const pause = Math.min(30_000, 500 * 2 ** (failures - 1));
    log.error(
      { role, pid: worker.process.pid, code, signal, restart_in_ms: pause },
      `${role} process exited; forking again`,
    );
    setTimeout(() => !stopping && fork(role), pause).unref();
  });

  let finish: (code: number) => void = () => {};
  const finished = new Promise<number>((resolve) => (finish = resolve));
  let over = false;
  const done = (code = 0) => {
    if (over) return;
    over = true;
    if (code) log.error('processes not drained in time were killed');
    else log.info('every process stopped');
    finish(code);
  };

  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return; // the group's signal and npm's forwarded one both arrive: one drain
    stopping = true;
    log.info({ signal }, 'stopping every process');
    const alive = Object.values(cluster.workers ?? {}).filter((w): w is Worker => Boolean(w));
    if (alive.length === 0) return done();
    // A process signalled as part of the group has it already; a second SIGTERM is a no-op in it.
    for (const worker of alive) worker.process.kill('SIGTERM');
    // Each process exits by its own deadline; this one is for a process that could not.
    setTimeout(() => {
      for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGKILL');
      done(1);
    }, STOP_DEADLINE_MS + 1_000).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  for (const [role, count] of Object.entries(groups) as [R, number][]) for (let i = 0; i < count; i++) fork(role);
  process.exit(await finished);
}

const pending = new Map<number, { resolve: (text: string) => void; reject: (err: Error) => void }>();
let nextRequest = 0;
let joined = false;

/** Makes this process's registry part of the primary's aggregate (a no-op unless forked by a primary). */
export function joinClusterMetrics(registry: Registry): void {
  if (!isClusterProcess()) return;
  AggregatorRegistry.setRegistries([registry]);
  if (joined) return;
  joined = true;
  new AggregatorRegistry(); // installs prom-client's answer to the primary's requests
  process.on('message', (message: { type?: string; id?: number; text?: string; error?: string }) => {
    if (message?.type !== METRICS_RES || message.id === undefined) return;
    const request = pending.get(message.id);
    pending.delete(message.id);
    if (message.error) request?.reject(new Error(message.error));
    else request?.resolve(message.text ?? '');
  });
}

/** The text `/metrics` serves: every process's metrics summed when forked by a primary, else this registry's. */
export async function metricsText(registry: Registry): Promise<string> {
  if (!isClusterProcess() || !process.send) return registry.metrics();
  const id = nextRequest++;
  const answer = new Promise<string>((resolve, reject) => {
    pending.set(id, { resolve, reject });
    setTimeout(() => {
      if (pending.delete(id)) reject(new Error('the primary did not answer with the metrics in time'));
    }, 6_000).unref();
  });
  process.send({ type: METRICS_REQ, id });
  return answer;
}
