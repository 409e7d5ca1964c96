/**
 * A long-running petit command (such as `petit connect`) as a child process
 * a test can watch and stop by PID.
 * @module
 */
import { spawn, type ChildProcess } from "node:child_process";
import { petitCommand, ROOT } from "./petit.ts";

/** A running petit command. */
export interface PetitProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves once stdout matches `pattern`; rejects if the process exits first or `timeoutMs` passes. */
  waitForStdout(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** Resolves once stderr matches `pattern`; rejects if the process exits first or `timeoutMs` passes. */
  waitForStderr(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** SIGTERMs the process by PID, SIGKILLs it after `graceMs`, and resolves with its exit code (null after a signal). */
  stop(graceMs?: number): Promise<number | null>;
}

/** Starts `petit ...args` with PETIT_HOME=`home`; it is SIGKILLed after `timeoutMs` whatever happens. */
export function spawnPetit(home: string, args: string[], options: { timeoutMs?: number } = {}): PetitProcess {
  const [program, prefix] = petitCommand();
  const child = spawn(program, [...prefix, ...args], {
    cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, PETIT_HOME: home, NO_COLOR: "1" },
  });
  let out = "";
  let err = "";
  child.stdout!.on("data", (chunk: Buffer) => { out += chunk.toString(); });
  child.stderr!.on("data", (chunk: Buffer) => { err += chunk.toString(); });
  let code: number | null | undefined;
  const exited = new Promise<number | null>((resolve) => {
    child.once("error", () => { code = null; resolve(null); });
    child.once("close", (c) => { code = c; resolve(c); });
  });
  const kill = (signal: NodeJS.Signals) => { if (code === undefined && child.pid) process.kill(child.pid, signal); };
  const timer = setTimeout(() => kill("SIGKILL"), options.timeoutMs ?? 60_000);
  timer.unref();

  const waitFor = async (read: () => string, name: string, pattern: RegExp, timeoutMs = 10_000) => {
    const start = Date.now();
    for (;;) {
      const match = pattern.exec(read());
      if (match) return match;
      const why = code !== undefined ? `petit exited (${code})` : Date.now() - start > timeoutMs ? `timed out after ${timeoutMs} ms` : "";
      if (why) throw new Error(`${why} before its ${name} matched ${pattern}\nstdout: ${out}\nstderr: ${err}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    waitForStdout: (pattern, timeoutMs) => waitFor(() => out, "stdout", pattern, timeoutMs),
    waitForStderr: (pattern, timeoutMs) => waitFor(() => err, "stderr", pattern, timeoutMs),
    async stop(graceMs = 5_000) {
      kill("SIGTERM");
      const hard = setTimeout(() => kill("SIGKILL"), graceMs);
      const result = await exited;
      clearTimeout(hard);
      clearTimeout(timer);
      return result;
    },
  };
}
