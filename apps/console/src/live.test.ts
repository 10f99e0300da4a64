import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { backoff, type LiveEvent, LiveSocket } from './live';

/** A WebSocket stand-in: the test plays the server. */
class FakeSocket {
  readyState = 0;
  sent: string[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((m: { data: string }) => void) | null = null;
  onclose: (() => void) | null = null;
  onerror: (() => void) | null = null;
  constructor(readonly url: string) {}
  send(s: string) {
    this.sent.push(s);
  }
  close() {
    this.readyState = 3;
  }
  open() {
    this.readyState = 1;
    this.onopen?.();
  }
  frame(f: unknown) {
    this.onmessage?.({ data: JSON.stringify(f) });
  }
  drop() {
    this.readyState = 3;
    this.onclose?.();
  }
}

describe('the live socket', () => {
  let sockets: FakeSocket[];
  let events: LiveEvent[];
  let resyncs: number;
  let live: LiveSocket;
  beforeEach(() => {
    vi.useFakeTimers();
    sockets = [];
    events = [];
    resyncs = 0;
    live = new LiveSocket({
      url: (last) => `ws://x/ws${last ? `?last_event_id=${last}` : ''}`,
      onEvent: (e) => events.push(e),
      onResync: () => resyncs++,
      create: (url) => {
        const s = new FakeSocket(url);
        sockets.push(s);
        return s as unknown as WebSocket;
      },
      minDelayMs: 100,
      maxDelayMs: 1000,
    });
    live.start();
  });
  afterEach(() => {
    live.stop();
    vi.useRealTimers();
  });

  it('resumes after a drop from the last event id it saw', () => {
    sockets[0]!.open();
    sockets[0]!.frame({ type: 'message_received', id: '1700000000000-0', data: { id: 1 } });
    sockets[0]!.frame({ type: 'typing', data: { channel_id: 1 } });
    expect(events.map((e) => e.type)).toEqual(['message_received', 'typing']);
    sockets[0]!.drop();
    expect(live.state).toBe('reconnecting');
    vi.advanceTimersByTime(1000);
    expect(sockets[1]!.url).toBe('ws://x/ws?last_event_id=1700000000000-0');
  });

  it('reloads on resync_required and starts over from now', () => {
    sockets[0]!.open();
    sockets[0]!.frame({ type: 'entry_created', id: '5-0', data: {} });
    sockets[0]!.frame({ type: 'resync_required' });
    expect(resyncs).toBe(1);
    expect(live.position).toBeNull();
    sockets[0]!.drop();
    vi.advanceTimersByTime(1000);
    expect(sockets[1]!.url).toBe('ws://x/ws');
  });

  it('sends typing frames only on an open socket, and stops reconnecting once stopped', () => {
    live.send({ type: 'typing', channel_id: 3 });
    expect(sockets[0]!.sent).toEqual([]);
    sockets[0]!.open();
    live.send({ type: 'typing', channel_id: 3 });
    expect(sockets[0]!.sent).toEqual(['{"type":"typing","channel_id":3}']);
    live.stop();
    sockets[0]!.drop();
    vi.advanceTimersByTime(10_000);
    expect(sockets).toHaveLength(1);
  });

  it('backs off exponentially up to the ceiling', () => {
    expect(backoff(0, 500, 10_000, () => 1)).toBe(500);
    expect(backoff(3, 500, 10_000, () => 1)).toBe(4000);
    expect(backoff(10, 500, 10_000, () => 1)).toBe(10_000);
    expect(backoff(10, 500, 10_000, () => 0)).toBe(8000);
  });
});
