/**
 * Where a browser goes after signing in: a path on the same host, never
 * another site (no open redirect).
 * @module
 */

/** The longest target kept; a longer one becomes "/". */
const MAX_NEXT = 2_048;

/**
 * Returns `next` (the visitor's text, from the sign-in form or query) when
 * it is a path on this host, else "/". Kept: "/" followed by visible ASCII
 * (no space, control byte or non-ASCII, so it is safe in a Location header),
 * not "//" or "/\" (which browsers read as another host), no "\" at all
 * (browsers read it as "/"), and not petit's own /.petit/ pages.
 * @example safeNextPath("/orders?id=7") === "/orders?id=7"; safeNextPath("//evil.example/") === "/"
 */
export function safeNextPath(next: string | null | undefined): string {
  if (!next || next.length > MAX_NEXT || next[0] !== "/" || next[1] === "/") return "/";
  for (let i = 0; i < next.length; i++) {
    const c = next.charCodeAt(i);
    if (c <= 32 || c >= 127 || c === 92 /* "\" */) return "/";
  }
  return next.startsWith("/.petit/") || next === "/.petit" ? "/" : next;
}
