/**
 * The proxy's own answers: one-line plain-text refusals (404, 407, 502, …),
 * the HTML of the sign-in pages,
 * and the 400/431 for a head it cannot read, as whole HTTP/1.1 responses.
 * @module
 */
import { STATUS_CODES } from "node:http";
import type { HeadError } from "./http1/head-error.ts";

/** A response with `status` and the one line `line`; `close` adds "Connection: close" (the caller closes after it). */
export function textAnswer(status: number, line: string, headers: Record<string, string> | undefined, close: boolean): string {
  const text = `${line}\n`;
  let extra = "";
  if (headers) for (const name in headers) extra += `${name}: ${headers[name]}\r\n`;
  return `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? "Refused"}\r\n${extra}content-type: text/plain; charset=utf-8\r\n` +
    `content-length: ${Buffer.byteLength(text)}\r\n${close ? "connection: close\r\n" : ""}\r\n${text}`;
}

/**
 * A response with `status` and the HTML page `html` (petit's sign-in pages);
 * `omitBody` (a HEAD) sends its head alone, with the page's length.
 */
export function pageAnswer(status: number, html: string, headers: Record<string, string> | undefined, close: boolean, omitBody = false): string {
  let extra = "";
  if (headers) for (const name in headers) extra += `${name}: ${headers[name]}\r\n`;
  return `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? "Refused"}\r\n${extra}content-type: text/html; charset=utf-8\r\n` +
    `content-length: ${Buffer.byteLength(html)}\r\n${close ? "connection: close\r\n" : ""}\r\n${omitBody ? "" : html}`;
}

/** The answer to a head that breaks HTTP/1.1, naming the rule; the connection closes after it. */
export function malformedAnswer(error: HeadError): string {
  return textAnswer(error.status, `petit: malformed request (${error.code}): ${error.rule}`, undefined, true);
}
