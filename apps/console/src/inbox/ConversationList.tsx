import { useInfiniteQuery } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { api, type Page } from '../api';
import { Badge, ErrorNote, onListKeys } from '../components';
import { CHANNEL_LABELS, channelLabel, contactLabel, initials, shortTime } from '../format';
import { useSession } from '../live-context';
import { hrefOf, onLinkClick } from '../router';
import type { Conversation } from '../types';

export interface Filters {
  status: string;
  channel: string;
  priority: string;
  assigned: '' | 'me' | 'none';
  leads: boolean;
  spam: boolean;
  q: string;
}

const EMPTY: Filters = { status: '', channel: '', priority: '', assigned: '', leads: false, spam: false, q: '' };

/** The filters as the API's query parameters (DESIGN §6: GET /conversations). */
export function filterQuery(f: Filters, me: string) {
  return {
    status: f.status || undefined,
    channel: f.channel || undefined,
    priority: f.priority || undefined,
    assigned_to: f.assigned === 'me' ? me : f.assigned === 'none' ? 'none' : undefined,
    is_lead: f.leads ? true : undefined,
    is_spam: f.spam ? true : undefined,
    q: f.q.trim() || undefined,
  };
}

function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setV(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return v;
}

export function ConversationList({ selected }: { selected: number | null }) {
  const session = useSession();
  const [filters, setFilters] = useState<Filters>(EMPTY);
  const [search, setSearch] = useState('');
  const q = useDebounced(search, 250);
  const query = filterQuery({ ...filters, q }, session.userId);
  const list = useInfiniteQuery({
    queryKey: ['conversations', query],
    queryFn: ({ pageParam }) =>
      api.get<Page<Conversation>>('/conversations', { ...query, limit: 50, cursor: pageParam ?? undefined }),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next_cursor,
  });
  const sentinel = useRef<HTMLLIElement>(null);
  const { hasNextPage, isFetchingNextPage, fetchNextPage } = list;
  useEffect(() => {
    const el = sentinel.current;
    if (!el || !hasNextPage) return;
    const io = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting) && !isFetchingNextPage) void fetchNextPage();
    });
    io.observe(el);
    return () => io.disconnect();
  }, [hasNextPage, isFetchingNextPage, fetchNextPage]);

  const rows = list.data?.pages.flatMap((p) => p.data) ?? [];
  const set = <K extends keyof Filters>(k: K, v: Filters[K]) => setFilters((f) => ({ ...f, [k]: v }));

  return (
    <section className="list-pane" aria-labelledby="inbox-title">
      <div className="pane-head">
        <h1 id="inbox-title">Inbox</h1>
        <div className="search">
          <label htmlFor="conv-search" className="sr-only">
            Search conversations
          </label>
          <input
            id="conv-search"
            type="search"
            placeholder="Search name, number or text"
            value={search}
            onChange={(e) => setSearch(e.target.value)}
          />
        </div>
        <details className="filters">
          <summary>Filters{activeCount(filters) ? ` (${activeCount(filters)})` : ''}</summary>
          <div className="filter-grid">
            <Select label="Status" value={filters.status} onChange={(v) => set('status', v)} options={STATUSES} />
            <Select label="Channel" value={filters.channel} onChange={(v) => set('channel', v)} options={CHANNELS} />
            <Select
              label="Priority"
              value={filters.priority}
              onChange={(v) => set('priority', v)}
              options={PRIORITIES}
            />
            <Select
              label="Assigned"
              value={filters.assigned}
              onChange={(v) => set('assigned', v as Filters['assigned'])}
              options={[
                ['me', 'To me'],
                ['none', 'Unassigned'],
              ]}
            />
            <label className="check">
              <input type="checkbox" checked={filters.leads} onChange={(e) => set('leads', e.target.checked)} /> Leads
              only
            </label>
            <label className="check">
              <input type="checkbox" checked={filters.spam} onChange={(e) => set('spam', e.target.checked)} /> Spam
            </label>
            <button type="button" className="ghost" onClick={() => setFilters(EMPTY)}>
              Clear filters
            </button>
          </div>
        </details>
      </div>
      <ErrorNote error={list.error} />
      <ul className="rows" aria-label="Conversations" onKeyDown={(e) => onListKeys(e, 'a.row')}>
        {rows.map((c) => {
          const href = hrefOf({ view: 'inbox', id: c.id });
          const name = contactLabel(c);
          return (
            <li key={c.id}>
              <a
                className={`row ${c.unread_count ? 'unread' : ''}`}
                href={href}
                aria-current={selected === c.id ? 'true' : undefined}
                onClick={(e) => onLinkClick(e, href)}
                data-conversation={c.id}
              >
                <span className={`avatar ch-${c.channel}`} aria-hidden="true">
                  {initials(name)}
                </span>
                <span className="row-main">
                  <span className="row-top">
                    <span className="row-name">{name}</span>
                    <time dateTime={c.last_message_at}>{shortTime(c.last_message_at)}</time>
                  </span>
                  <span className="row-bottom">
                    <span className="row-preview">{c.last_message ?? ''}</span>
                    <Badge count={c.unread_count} label="unread" />
                  </span>
                  <span className="row-tags">
                    <span className="tag">{channelLabel(c.channel)}</span>
                    {c.status !== 'open' && <span className={`tag st-${c.status}`}>{c.status}</span>}
                    {c.priority === 'high' && <span className="tag prio-high">high</span>}
                    {c.is_lead && <span className="tag lead">lead</span>}
                    {c.assigned_to === session.userId && <span className="tag">mine</span>}
                  </span>
                </span>
              </a>
            </li>
          );
        })}
        {hasNextPage && (
          <li ref={sentinel} className="more">
            <button type="button" className="ghost" onClick={() => fetchNextPage()} disabled={isFetchingNextPage}>
              {isFetchingNextPage ? 'Loading…' : 'Load more'}
            </button>
          </li>
        )}
      </ul>
      {list.isSuccess && rows.length === 0 && <p className="muted pad">No conversations match.</p>}
      {list.isPending && <p className="muted pad">Loading conversations…</p>}
    </section>
  );
}

function activeCount(f: Filters) {
  return [f.status, f.channel, f.priority, f.assigned, f.leads, f.spam].filter(Boolean).length;
}

const STATUSES: [string, string][] = ['new', 'open', 'replied', 'qualified', 'archived'].map((s) => [s, s]);
const CHANNELS: [string, string][] = Object.entries(CHANNEL_LABELS);
const PRIORITIES: [string, string][] = ['high', 'normal', 'low'].map((s) => [s, s]);

function Select(p: { label: string; value: string; onChange: (v: string) => void; options: [string, string][] }) {
  const id = `f-${p.label.toLowerCase()}`;
  return (
    <div className="field">
      <label htmlFor={id}>{p.label}</label>
      <select id={id} value={p.value} onChange={(e) => p.onChange(e.target.value)}>
        <option value="">Any</option>
        {p.options.map(([v, l]) => (
          <option key={v} value={v}>
            {l}
          </option>
        ))}
      </select>
    </div>
  );
}
