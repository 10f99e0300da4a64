/** Small pieces the views share. */
import { type KeyboardEvent, type ReactNode, useEffect, useState } from 'react';
import { ApiError, fetchBlobUrl } from './api';
import { attachmentView } from './format';
import type { Attachment } from './types';

export function ErrorNote({ error }: { error: unknown }) {
  if (!error) return null;
  const text = error instanceof ApiError ? error.detail : error instanceof Error ? error.message : String(error);
  return (
    <p className="error" role="alert">
      {text}
    </p>
  );
}

/** Media behind the API need the token, so images are fetched and shown from an object URL. */
function AuthedImage({ url, label }: { url: string; label: string }) {
  const [src, setSrc] = useState<string | null>(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    let revoke: string | null = null;
    let live = true;
    fetchBlobUrl(url).then(
      (u) => {
        revoke = u;
        if (live) setSrc(u);
      },
      () => live && setFailed(true),
    );
    return () => {
      live = false;
      if (revoke) URL.revokeObjectURL(revoke);
    };
  }, [url]);
  if (failed) return <span className="muted">{label} (could not be loaded)</span>;
  if (!src) return <span className="img-placeholder" role="img" aria-label={`${label}, loading`} />;
  return <img className="attachment-image" src={src} alt={label} />;
}

function AuthedLink({ url, label }: { url: string; label: string }) {
  const [problem, setProblem] = useState<string | null>(null);
  const sameOrigin = url.startsWith('/');
  if (!sameOrigin)
    return (
      <a href={url} target="_blank" rel="noreferrer noopener">
        {label}
      </a>
    );
  return (
    <>
      <a
        href={url}
        onClick={async (e) => {
          e.preventDefault();
          try {
            const blob = await fetchBlobUrl(url);
            const a = document.createElement('a');
            a.href = blob;
            a.download = label;
            a.click();
            setTimeout(() => URL.revokeObjectURL(blob), 10_000);
          } catch (err) {
            setProblem((err as Error).message);
          }
        }}
      >
        {label}
      </a>
      {problem && <span className="error"> {problem}</span>}
    </>
  );
}

export function AttachmentItem({ attachment }: { attachment: Attachment }) {
  const v = attachmentView(attachment);
  if (v.kind === 'image' && v.url) return <AuthedImage url={v.url} label={v.label} />;
  if (v.kind === 'link' && v.url) return <AuthedLink url={v.url} label={v.label} />;
  return <span className="muted">{v.label}</span>;
}

export function Badge({
  count,
  label,
  tone = 'unread',
}: {
  count: number;
  label: string;
  tone?: 'unread' | 'mention';
}) {
  if (!count) return null;
  return (
    <span className={`badge badge-${tone}`}>
      <span aria-hidden="true">{count > 99 ? '99+' : count}</span>
      <span className="sr-only">
        {count} {label}
      </span>
    </span>
  );
}

/** Moves focus between the focusable rows of a list with the arrow keys, Home and End. */
export function onListKeys(e: React.KeyboardEvent<HTMLElement>, selector: string) {
  if (!['ArrowDown', 'ArrowUp', 'Home', 'End'].includes(e.key)) return;
  const items = [...e.currentTarget.querySelectorAll<HTMLElement>(selector)];
  if (!items.length) return;
  const i = items.indexOf(document.activeElement as HTMLElement);
  const next =
    e.key === 'Home'
      ? 0
      : e.key === 'End'
        ? items.length - 1
        : e.key === 'ArrowDown'
          ? Math.min(items.length - 1, i + 1)
          : Math.max(0, i - 1);
  e.preventDefault();
  items[next]?.focus();
}

/**
 * Suggestions under a text box (mentions, quick replies): the arrow keys move the active one, Enter or Tab picks it,
 * Escape dismisses them (when the caller can). `onKey` answers whether it handled the key.
 */
export function useSuggestions<T>(options: T[], pick: (o: T) => void, dismiss?: () => void) {
  const [active, setActive] = useState(0);
  const choose = (o: T) => {
    setActive(0);
    pick(o);
  };
  const onKey = (e: KeyboardEvent<HTMLElement>): boolean => {
    if (!options.length) return false;
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      setActive((a) => (a + (e.key === 'ArrowDown' ? 1 : options.length - 1)) % options.length);
    } else if (e.key === 'Enter' || e.key === 'Tab') {
      choose(options[Math.min(active, options.length - 1)]!);
    } else if (e.key === 'Escape' && dismiss) {
      dismiss();
    } else return false;
    e.preventDefault();
    return true;
  };
  return { active, choose, onKey, reset: () => setActive(0) };
}

/** The listbox of `useSuggestions`; the text box points at it with `suggestionAria`. */
export function SuggestionList<T extends { id: string | number }>(p: {
  id: string;
  label: string;
  options: T[];
  active: number;
  onPick: (o: T) => void;
  children: (o: T) => ReactNode;
}) {
  if (!p.options.length) return null;
  return (
    <div className="quick-replies" role="listbox" id={p.id} aria-label={p.label}>
      {p.options.map((o, i) => (
        <div
          key={o.id}
          tabIndex={-1}
          id={`${p.id}-${o.id}`}
          role="option"
          aria-selected={i === p.active}
          className={i === p.active ? 'active' : ''}
          onMouseDown={(e) => {
            e.preventDefault();
            p.onPick(o);
          }}
        >
          {p.children(o)}
        </div>
      ))}
    </div>
  );
}

/** What the text box says of its `SuggestionList`. */
export function suggestionAria(id: string, options: { id: string | number }[], active: number) {
  const current = options[active];
  return {
    'aria-controls': options.length ? id : undefined,
    'aria-activedescendant': current ? `${id}-${current.id}` : undefined,
  };
}

/** A table's header row: its column names, and a last column of actions named for screen readers only. */
export function TableHead({ columns }: { columns: string[] }) {
  return (
    <thead>
      <tr>
        {columns.map((c) => (
          <th scope="col" key={c}>
            {c}
          </th>
        ))}
        <th scope="col">
          <span className="sr-only">Actions</span>
        </th>
      </tr>
    </thead>
  );
}
