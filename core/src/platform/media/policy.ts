/** What the media store takes, and how a stored file is shown to a browser. */

/**
 * The types customers send through the providers (WhatsApp's supported media types, Twilio's accepted MMS types,
 * email attachments agents open): images, audio, video, PDF and office documents, text, vCards. HTML, SVG and
 * anything executable are left out. MEDIA_ALLOWED_TYPES replaces the list.
 */
export const DEFAULT_ALLOWED_TYPES = [
  'image/jpeg',
  'image/png',
  'image/gif',
  'image/webp',
  'image/heic',
  'image/heif',
  'image/bmp',
  'image/tiff',
  'audio/*',
  'video/mp4',
  'video/3gpp',
  'video/quicktime',
  'video/webm',
  'video/mpeg',
  'application/pdf',
  'application/msword',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  'application/vnd.ms-excel',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  'application/vnd.ms-powerpoint',
  'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  'application/vnd.oasis.opendocument.text',
  'application/vnd.oasis.opendocument.spreadsheet',
  'application/rtf',
  'application/zip',
  'text/plain',
  'text/csv',
  'text/vcard',
  'text/x-vcard',
  'text/calendar',
];

/** `Image/JPEG; charset=x` → `image/jpeg`; null for anything that is not a type/subtype. */
export function baseMimeType(value: string | null | undefined): string | null {
  const base = value?.split(';')[0]?.trim().toLowerCase();
  return base && /^[a-z0-9][\w.+-]*\/[a-z0-9][\w.+-]*$/.test(base) ? base : null;
}

/** A matcher for a comma-separated list of types and `type/*` wildcards. */
export function mimeAllowList(list: string | undefined): (mime: string) => boolean {
  const entries = list
    ? list
        .split(',')
        .map((s) => s.trim().toLowerCase())
        .filter(Boolean)
    : DEFAULT_ALLOWED_TYPES;
  const exact = new Set(entries.filter((e) => !e.endsWith('/*')));
  const prefixes = entries.filter((e) => e.endsWith('/*')).map((e) => e.slice(0, -1));
  return (mime) => exact.has(mime) || prefixes.some((p) => mime.startsWith(p));
}

/** Shown in the browser: images (but SVG, which can carry script), audio, video and PDF. Everything else downloads. */
export function isInline(mime: string): boolean {
  if (mime === 'image/svg+xml') return false;
  return /^(image|audio|video)\//.test(mime) || mime === 'application/pdf';
}

/**
 * A filename safe for a header and a file system: no path, no control or quote characters, at most 200 characters;
 * `fallback` when nothing is left.
 */
export function safeFilename(name: string | null | undefined, fallback: string): string {
  const last = (name ?? '').split(/[\\/]/).pop() ?? '';
  const clean = last
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is removed
    .replace(/[\u0000-\u001f\u007f"*:<>?|;]/g, '_')
    .replace(/^[.\s]+/, '')
    .trim()
    .slice(0, 200);
  return clean || fallback;
}

/** `Content-Disposition` with an ASCII `filename` and the UTF-8 `filename*` (RFC 6266). */
export function contentDisposition(mime: string, filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]/g, '_').replace(/[%\\]/g, '_');
  const type = isInline(mime) ? 'inline' : 'attachment';
  return `${type}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(filename)}`;
}

const EXTENSIONS: Record<string, string> = {
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/gif': 'gif',
  'image/webp': 'webp',
  'audio/ogg': 'ogg',
  'audio/mpeg': 'mp3',
  'audio/aac': 'aac',
  'audio/amr': 'amr',
  'audio/mp4': 'm4a',
  'video/mp4': 'mp4',
  'video/3gpp': '3gp',
  'application/pdf': 'pdf',
  'text/plain': 'txt',
};

/** A name for a file the provider gave none: `media-12.jpg`. */
export function defaultFilename(id: number, mime: string): string {
  const ext = EXTENSIONS[mime];
  return ext ? `media-${id}.${ext}` : `media-${id}`;
}
