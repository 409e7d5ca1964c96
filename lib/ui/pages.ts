/**
 * What both pages share: the HTML shell, the signed-out and login pages, the
 * confirmation dialog, and the assembly of a page from its body and script
 * with the common script library (page-script.ts) and style sheet
 * (style.ts). Plain strings: no framework, nothing fetched from elsewhere,
 * works offline.
 * @module
 */
import { COMMON_JS } from "./page-script.ts";
import { COMMON_CSS } from "./style.ts";

/** One page: its HTML (given the CSRF cookie's name), script and style sheet. */
export interface ConsolePage {
  title: string;
  html: (csrfCookie: string) => string;
  js: string;
  css: string;
}

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Returns a whole page: `body` inside the common shell, with the CSRF cookie's name for the script. */
export function pageShell(title: string, csrfCookie: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="petit-csrf-cookie" content="${escapeHtml(csrfCookie)}">
<title>${escapeHtml(title)}</title>
<link rel="stylesheet" href="/ui/app.css">
<script src="/ui/app.js" defer></script>
</head>
<body>
<div id="banner" class="banner" hidden></div>
${body}
<div id="toast" class="toast" role="status" aria-live="polite" hidden></div>
</body>
</html>
`;
}

/** The page shown without a session: how to get a login link (`expired`: the link given was used or too old). */
export function signedOutPage(title: string, command: string, expired: boolean): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}: sign in</title><link rel="stylesheet" href="/ui/app.css"></head>
<body><main class="narrow"><h1>${escapeHtml(title)}</h1>
<p>${expired ? "This login link is unknown, was used already, or is more than two minutes old." : "You are not signed in."}</p>
<p>Run <code>${escapeHtml(command)}</code> on this machine, as the user who runs petit, and open the link it prints (or add <code>--open</code>).</p>
</main></body></html>
`;
}

/** The answer to a good login link: sets the cookies (in headers) and moves on to the page. */
export function loginLanding(title: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="0;url=/ui"><title>${escapeHtml(title)}</title><link rel="stylesheet" href="/ui/app.css"></head>
<body><main class="narrow"><p>Signed in. <a href="/ui">Continue to ${escapeHtml(title)}</a>.</p></main></body></html>
`;
}

/** The confirmation dialog both pages use (petit.confirmDialog fills it in). */
export const CONFIRM_DIALOG = `<dialog id="confirm"><form method="dialog"><h3></h3><p></p>
<div class="actions"><button value="cancel" type="submit">Cancel</button><button value="ok" type="submit" class="danger solid">OK</button></div></form></dialog>`;

/**
 * Returns a console page titled `title`: `body` in the common shell, and
 * `script` after the common script library (so it may use `petit` and `$`).
 */
export function consolePage(title: string, body: string, script: string): ConsolePage {
  return {
    title,
    html: (csrfCookie) => pageShell(title, csrfCookie, body),
    js: COMMON_JS + script,
    css: COMMON_CSS,
  };
}
