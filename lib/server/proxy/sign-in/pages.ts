/**
 * petit's own sign-in pages: plain HTML forms, no script, one inline style
 * allowed by its hash, nothing from another origin (strict CSP).
 * @module
 */
import { createHash } from "node:crypto";

const STYLE = "body{font:16px/1.5 system-ui,sans-serif;max-width:28rem;margin:4rem auto;padding:0 1rem;color:#222}" +
  "h1{font-size:1.3rem}input,button{font:inherit;padding:.4rem .6rem;margin:.3rem 0;box-sizing:border-box;width:100%}" +
  "button{cursor:pointer}.error{color:#b00020}code{background:#f2f2f2;padding:0 .2rem}small{color:#666}";

/** Headers of every sign-in page: a CSP that allows the one style and forms to this host only, and nothing else. */
export const PAGE_HEADERS: Record<string, string> = {
  "content-security-policy": `default-src 'none'; style-src 'sha256-${createHash("sha256").update(STYLE).digest("base64")}'; ` +
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  // Not no-referrer: Chromium then sends "Origin: null" with the form, and the sign-in refuses what it cannot tell from a cross-site post.
  "referrer-policy": "same-origin",
  "cache-control": "no-store",
};

/** Escapes text for HTML content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title: string, body: string): string {
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">` +
    `<meta name="robots" content="noindex"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head>\n<body>${body}</body></html>\n`;
}

/** What the sign-in form shows. */
export interface SignInForm {
  /** The host signed in to, as the visitor named it. */
  host: string;
  /** Where to go after (a same-host path, already checked). */
  next: string;
  /** Why the last attempt failed. */
  error?: string;
  /** A link code: the form only confirms it (a button), so a link preview that fetches the URL does not spend it. */
  link?: string;
}

/** The sign-in page: the access token in a password field, or the button of a sign-in link. */
export function signInPage(form: SignInForm): string {
  const error = form.error ? `<p class="error" id="error">${escapeHtml(form.error)}</p>` : "";
  const fields = form.link
    ? `<input type="hidden" name="link" value="${escapeHtml(form.link)}"><button id="continue" type="submit">Continue</button>`
    : `<label for="token">Access token</label><input id="token" name="token" type="password" autocomplete="off" required autofocus>` +
      `<button id="sign-in" type="submit">Sign in</button>`;
  return page(`Sign in to ${form.host}`,
    `<h1>Sign in to ${escapeHtml(form.host)}</h1>${error}` +
    `<p>This service is private. ${form.link ? "Continue with your sign-in link." : "Enter its access token (the client shows it with <code>petit status</code>)."}</p>` +
    `<form method="post" action="/.petit/sign-in"><input type="hidden" name="next" value="${escapeHtml(form.next)}">${fields}</form>` +
    "<p><small>Signed in, this browser can reach this host only, until the token changes or the sign-in expires.</small></p>");
}

/** The sign-out page: one button that posts to /.petit/sign-out. */
export function signOutPage(host: string): string {
  return page(`Sign out of ${host}`, `<h1>Sign out of ${escapeHtml(host)}</h1>` +
    `<form method="post" action="/.petit/sign-out"><button id="sign-out" type="submit">Sign out</button></form>`);
}

/** The page of a private tunnel reached over plain HTTP: a browser cannot be signed in safely. */
export function needsHttpsPage(host: string): string {
  return page("HTTPS needed", `<h1>${escapeHtml(host)} is private</h1>` +
    "<p>Signing in from a browser needs HTTPS, and this relay serves plain HTTP: a token typed here, and the cookie that " +
    "would keep you signed in, could be read by anyone on the way.</p>" +
    "<p>Ask the relay's operator to enable TLS (<code>server.tls_cert</code> and <code>server.tls_key</code>), or send the " +
    "access token with each request: <code>Proxy-Authorization: Bearer TOKEN</code> or <code>X-Petit-Token: TOKEN</code>.</p>");
}

/** A short page with a title and one paragraph (both plain text). */
export function messagePage(title: string, text: string): string {
  return page(title, `<h1>${escapeHtml(title)}</h1><p id="message">${escapeHtml(text)}</p>`);
}
