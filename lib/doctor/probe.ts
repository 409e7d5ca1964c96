/**
 * Bounded probes the doctor's checks share: a TCP connect that says why it
 * failed, a GET of the relay's health endpoint, and running a program with a
 * time limit.
 * @module
 */
import { execa } from "execa";
import { connect } from "node:net";
import { request } from "undici";

/** How a TCP connect went. */
export type TcpProbe = { ok: true; ms: number } | { ok: false; reason: string };

/** Tries a TCP connect to host:port within `timeoutMs`; says why it failed ("ECONNREFUSED", "timed out after 3 s"). */
export function probeTcp(host: string, port: number, timeoutMs = 3_000): Promise<TcpProbe> {
  const start = Date.now();
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const timer = setTimeout(() => done({ ok: false, reason: `no answer within ${timeoutMs / 1000} s` }), timeoutMs);
    const done = (result: TcpProbe) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    socket.once("connect", () => done({ ok: true, ms: Date.now() - start }));
    socket.once("error", (error: NodeJS.ErrnoException) => done({ ok: false, reason: error.code ?? error.message }));
  });
}

/** What GET <relay>/v1/health answered. */
export type HealthProbe =
  | { ok: true; status: number; date: string | undefined; ms: number; sentAt: number; receivedAt: number }
  | { ok: false; reason: string };

/** GETs `<relayUrl>/v1/health` within `timeoutMs`; any HTTP answer counts as reached, `status` says which. */
export async function probeHealth(relayUrl: string, timeoutMs = 3_000): Promise<HealthProbe> {
  const url = new URL("/v1/health", relayUrl).toString();
  const sentAt = Date.now();
  const abort = AbortSignal.timeout(timeoutMs);
  try {
    const res = await request(url, { signal: abort, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
    await res.body.text();
    const receivedAt = Date.now();
    const date = res.headers.date;
    return { ok: true, status: res.statusCode, date: Array.isArray(date) ? date[0] : date, ms: receivedAt - sentAt, sentAt, receivedAt };
  } catch (error) {
    if (abort.aborted) return { ok: false, reason: `no answer within ${timeoutMs / 1000} s` };
    const code = (error as { code?: string }).code;
    return { ok: false, reason: code ?? (error as Error).message };
  }
}

/** What a program run printed and how it ended. */
export interface ProgramRun {
  /** Null when it did not run to the end (not found, timed out). */
  exitCode: number | null;
  stdout: string;
  stderr: string;
  /** Set when the program could not be started at all (ENOENT, EACCES). */
  notStarted?: string;
  timedOut: boolean;
}

/** Runs `program args` with stdin closed, killed after `timeoutMs`; never throws. */
export async function runProgram(program: string, args: string[], timeoutMs: number): Promise<ProgramRun> {
  const result = await execa(program, args, { reject: false, stdin: "ignore", timeout: timeoutMs, forceKillAfterDelay: 1_000 });
  const code = (result as { code?: string }).code;
  const failedToStart = result.failed && !result.timedOut && result.exitCode === undefined && result.signal === undefined;
  return {
    exitCode: result.exitCode ?? null,
    stdout: String(result.stdout ?? ""),
    stderr: String(result.stderr ?? ""),
    notStarted: failedToStart ? (code ?? result.shortMessage) : undefined,
    timedOut: Boolean(result.timedOut),
  };
}
