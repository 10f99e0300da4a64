/**
 * One nesting limit for every JSON body the service accepts, API and gateway alike. Deeper documents are
 * refused before they are parsed: `JSON.parse` copes, but every later walk of the value (zod, jsonb
 * serialization, the `JSON.stringify` under Drizzle) recurses and would overflow the stack.
 */
export const JSON_MAX_DEPTH = 64;

/**
 * Whether `json` nests objects and arrays deeper than `max`; one pass, no recursion, strings skipped. Raw
 * UTF-8 bytes scan the same as text: no byte of a multi-byte character is an ASCII bracket or quote.
 */
export function jsonNestsDeeperThan(json: string | Uint8Array, max = JSON_MAX_DEPTH): boolean {
  const code = typeof json === 'string' ? (i: number) => json.charCodeAt(i) : (i: number) => json[i] as number;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < json.length; i++) {
    const ch = code(i);
    if (inString) {
      if (ch === 0x5c)
        i++; // backslash: skip the escaped character
      else if (ch === 0x22) inString = false;
    } else if (ch === 0x22) {
      inString = true;
    } else if (ch === 0x7b || ch === 0x5b) {
      if (++depth > max) return true;
    } else if (ch === 0x7d || ch === 0x5d) {
      depth--;
    }
  }
  return false;
}

export const TOO_DEEP = `the JSON body nests objects and arrays more than ${JSON_MAX_DEPTH} levels deep`;
