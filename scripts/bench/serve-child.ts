/**
 * Starting one of the bench's own servers (the origin, petit's TLS proxy) as
 * a process of its own: the file runs again with "--serve", prints
 * "port=N" once it listens, and is stopped at cleanup.
 * @module
 */
import { spawn } from "node:child_process";
import { onCleanup, stopPids } from "./cleanup.ts";

/** Runs `file` with `--serve` and `args`; resolves with the port it reports and its pid. `what` names it in errors. */
export function serveChild(what: string, file: string, args: string[] = []): Promise<{ port: number; pid: number }> {
  const child = spawn(process.execPath, ["--import", "tsx", file, "--serve", ...args], { stdio: ["pipe", "pipe", "inherit"] });
  onCleanup(`${what} (pid ${child.pid})`, () => stopPids([child.pid!]));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`The ${what} did not report its port within 15 s`)), 15_000);
    let text = "";
    child.stdout.on("data", (chunk: Buffer) => {
      text += chunk.toString();
      const match = /port=(\d+)/.exec(text);
      if (match) {
        clearTimeout(timer);
        resolve({ port: Number(match[1]), pid: child.pid! });
      }
    });
    child.once("exit", (code) => reject(new Error(`The ${what} exited with code ${code} before listening`)));
  });
}
