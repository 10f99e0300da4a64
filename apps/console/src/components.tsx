/** Small pieces the views share. */
import { useEffect, useState } from 'react';
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
