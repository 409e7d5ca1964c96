/**
 * `node --import tsx scripts/bench/lab.ts`: starts the bench's origin, relay
 * and client and keeps them up until Ctrl-C, printing how to reach each, so
 * the proxy can be measured by hand (strace -c, perf, curl, wrk).
 * @module
 */
import { resolve } from "node:path";
import { cleanupAll, cleanupOnSignals } from "./cleanup.ts";
import { startOrigin } from "./origin.ts";
import { ensureBundle, startPetit } from "./petit.ts";

const root = resolve(import.meta.dirname, "../..");
cleanupOnSignals();
const log = (line: string) => process.stderr.write(`lab: ${line}\n`);
const bundle = await ensureBundle(root, log);
const origin = await startOrigin();
const petit = await startPetit({ bundle, originPort: origin.port, nodeArgs: process.argv.slice(2) });
process.stdout.write(`${JSON.stringify({ origin: origin.port, proxy: petit.httpPort, tunnel: petit.tunnelPort, headers: petit.headers, pids: petit.pids() })}\n`);
process.stdin.resume();
process.stdin.on("end", () => void cleanupAll().then(() => process.exit(0)));
