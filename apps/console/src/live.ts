/**
 * The WebSocket (DESIGN §10): one per tab. Every event frame's `id` is remembered, and a reconnect after a drop
 * asks for `?last_event_id=` so the server replays what was missed, in order; when the gap is outside its replay
 * window the server says `resync_required` and the console reloads its data through REST instead.
 */
export interface LiveEvent {
  type: string;
  id?: string;
  data: Record<string, unknown>;
}

export type LiveState = 'connecting' | 'open' | 'reconnecting' | 'closed';

export interface LiveOptions {
  url: (lastEventId: string | null) => string;
  onEvent: (e: LiveEvent) => void;
  onResync: () => void;
  onState?: (s: LiveState) => void;
  /** The factory, so tests can hand in a fake socket. */
  create?: (url: string) => WebSocket;
  /** Backoff bounds for reconnects (ms). */
  minDelayMs?: number;
  maxDelayMs?: number;
}

/** The delay before reconnect attempt n (0-based): doubling from min to max, with up to 20 % jitter. */
export function backoff(attempt: number, min = 500, max = 10_000, random = Math.random): number {
  const d = Math.min(max, min * 2 ** attempt);
  return Math.round(d * (0.8 + 0.2 * random()));
}

export class LiveSocket {
  private ws: WebSocket | null = null;
  private lastEventId: string | null = null;
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private pinger: ReturnType<typeof setInterval> | null = null;
  private stopped = false;
  state: LiveState = 'connecting';

  constructor(private readonly o: LiveOptions) {}

  start(): void {
    this.stopped = false;
    this.open();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.pinger) clearInterval(this.pinger);
    this.ws?.close(1000, 'signed out');
    this.ws = null;
    this.setState('closed');
  }

  /** The last event id seen: what a reconnect resumes from. */
  get position(): string | null {
    return this.lastEventId;
  }

  send(frame: unknown): void {
    if (this.ws?.readyState === 1) this.ws.send(JSON.stringify(frame));
  }

  private setState(s: LiveState) {
    this.state = s;
    this.o.onState?.(s);
  }

  private open() {
    const ws = (this.o.create ?? ((u) => new WebSocket(u)))(this.o.url(this.lastEventId));
    this.ws = ws;
    ws.onopen = () => {
      this.attempt = 0;
      this.setState('open');
      if (this.pinger) clearInterval(this.pinger);
      // An application ping keeps proxies from closing an idle socket and shows a dead one sooner.
      this.pinger = setInterval(() => this.send({ type: 'ping' }), 25_000);
    };
    ws.onmessage = (msg) => {
      let frame: LiveEvent;
      try {
        frame = JSON.parse(String(msg.data)) as LiveEvent;
      } catch {
        return;
      }
      if (frame.type === 'pong' || frame.type === 'error') return;
      if (frame.type === 'resync_required') {
        // Nothing older can be replayed: start over from now, and reload through REST.
        this.lastEventId = null;
        this.o.onResync();
        return;
      }
      if (frame.id) this.lastEventId = frame.id;
      this.o.onEvent({ type: frame.type, id: frame.id, data: frame.data ?? {} });
    };
    ws.onclose = () => {
      if (this.pinger) clearInterval(this.pinger);
      if (this.ws !== ws || this.stopped) return;
      this.ws = null;
      this.setState('reconnecting');
      this.timer = setTimeout(() => this.open(), backoff(this.attempt++, this.o.minDelayMs, this.o.maxDelayMs));
    };
    ws.onerror = () => {
      // onclose follows and schedules the reconnect.
    };
  }
}
