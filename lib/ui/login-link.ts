/**
 * What `petit ui` and `petit server ui` share: asking a daemon (with the
 * control secret) for a one-time login link, printing it, opening it.
 * @module
 */
import { callControl, type ControlTarget } from "../daemon/control-client.ts";
import { openBrowser } from "./open-browser.ts";
import { LOGIN_CODE_PATH } from "./serve.ts";

/** Returns a fresh login link, or undefined when the daemon does not answer. */
export async function loginLink(target: ControlTarget): Promise<{ url: string; expires_in: number } | undefined> {
  return callControl<{ url: string; expires_in: number }>(target, LOGIN_CODE_PATH, { method: "POST" });
}

/** Prints the link (and opens it with `open`) through `out` and `err`. */
export async function showLoginLink(
  link: { url: string; expires_in: number }, open: boolean, out: (line: string) => void, err: (line: string) => void,
): Promise<void> {
  out(link.url);
  err(`(a one-time link, valid for ${link.expires_in} s; it signs this browser in until the daemon restarts)`);
  if (!open) return;
  const why = await openBrowser(link.url);
  if (why) err(`Could not open a browser (${why}): open the link above yourself`);
}
