/**
 * Reading why ssh exited, to tell errors worth retrying from ones that need
 * a person, and to say so in words.
 * @module
 */

/** Why the tunnel's ssh ended. */
export interface ExitReason {
  /** False when retrying cannot help until a person acts. */
  retryable: boolean;
  /** One line for `petit status` and the log. */
  message: string;
  /** True when the relay could not be reached or the link died: worth waiting for the network. */
  network: boolean;
  /**
   * True when ssh itself found the relay unreachable: its TCP connect failed,
   * or its keepalives went unanswered. That counts as a failed reachability
   * probe, so the first probe that succeeds afterwards means the network is back.
   */
  unreachable?: boolean;
  /** True when the relay refused the reverse forward (its port still held). */
  forwardRefused?: boolean;
  /** The relay port whose forward was refused. */
  refusedPort?: number;
}

/** How ssh-run.ts reports an ssh that could not be started at all (missing, not executable). */
export const CANNOT_RUN_SSH = "petit: cannot run ssh";

// What ssh says when the network, not the relay, is the problem.
const NETWORK = /Connection timed out|Connection refused|No route to host|Network is unreachable|not responding|Connection reset|Broken pipe|Connection closed by|closed by remote host|kex_exchange_identification|Could not resolve hostname|Temporary failure in name resolution|Operation timed out/;

// What ssh says when it could not reach the relay at all, or heard nothing back.
const UNREACHABLE = /connect to host \S+ port \d+: (Connection timed out|Connection refused|No route to host|Network is unreachable)|Timeout, server \S+ not responding/;

/** Classifies an ssh exit from its exit code and the last lines of its stderr. */
export function classifyExit(exitCode: number | null, signal: string | null, stderr: string[]): ExitReason {
  const text = stderr.join("\n");
  const cannotRun = stderr.find((line) => line.startsWith(CANNOT_RUN_SSH));
  if (cannotRun) {
    return {
      retryable: false, network: false,
      message: `${cannotRun.slice("petit: ".length)} (install OpenSSH's client, e.g. apt-get install openssh-client, or set client.ssh_path)`,
    };
  }
  if (/Permission denied \(publickey/.test(text)) {
    return {
      retryable: false, network: false,
      message: "the relay refused this client's key (revoked or unknown): run \"petit register\" again",
    };
  }
  if (/REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed|No \S+ host key is known/.test(text)) {
    return {
      retryable: false, network: false,
      message: "the relay's SSH host key does not match the pinned one: if the relay was reinstalled, run \"petit register\" again; otherwise someone may be intercepting the connection",
    };
  }
  const forward = /remote port forwarding failed for listen port (\d+)/.exec(text);
  if (forward) {
    return { retryable: true, network: false, forwardRefused: true, refusedPort: Number(forward[1]), message: `the relay refused the forward on port ${forward[1]} (still held by an old session, or not this client's port)` };
  }
  const last = stderr.filter((line) => line.trim()).at(-1)?.trim();
  if (signal) return { retryable: true, network: false, message: `ssh was killed by ${signal}` };
  return {
    retryable: true, network: NETWORK.test(text), unreachable: UNREACHABLE.test(text),
    message: last ? `ssh exited ${exitCode}: ${last}` : `ssh exited ${exitCode}`,
  };
}
