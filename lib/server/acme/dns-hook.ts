/**
 * DNS-01 through the operator's program: petit runs `HOOK add NAME VALUE`
 * before the CA checks `NAME` for a TXT record `VALUE`, and `HOOK remove NAME
 * VALUE` afterwards. The hook returns once the record is served (an nsupdate
 * to the zone's primary, say, then a wait for the secondaries).
 * @module
 */
import { execFile } from "node:child_process";

/** How long one run of the hook may take (DNS updates and their propagation can be slow). */
const HOOK_TIMEOUT_MS = 180_000;

/** Runs `hook action name value`; throws naming the hook, its exit and the end of its stderr when it fails. */
export function runDnsHook(hook: string, action: "add" | "remove", name: string, value: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(hook, [action, name, value], { timeout: HOOK_TIMEOUT_MS, killSignal: "SIGKILL" }, (error, _stdout, stderr) => {
      if (!error) return resolve();
      // The hook's own words: its last lines, on one line.
      const said = String(stderr).trim().split("\n").slice(-3).join(" / ").slice(0, 300);
      const how = error.killed ? `did not finish within ${HOOK_TIMEOUT_MS / 1000} s` : `failed (${error.code ?? error.message})`;
      reject(new Error(`server.acme.dns_hook "${hook} ${action} ${name}" ${how}${said ? `: ${said}` : ""}`, { cause: error }));
    });
  });
}
