/**
 * Why a head (a request's or a response's) is refused.
 * @module
 */

/** A head that breaks HTTP/1.1: the status to answer with, an llhttp-style code, and the rule it breaks. */
export class HeadError extends Error {
  constructor(readonly status: 400 | 431, readonly code: string, readonly rule: string) {
    super(`${code}: ${rule}`);
  }
}
