/**
 * A reader that closes early (`petit … | head -c 1`) ends the real CLI the
 * way it ends any Unix tool: quietly, with SIGPIPE's status 141, never with
 * a stack trace. The pipe's read end is closed before petit has started, so
 * its first write meets a closed pipe every time, however busy the machine.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { makeHome, petitCommand, ROOT } from "../helpers/petit.ts";

/** Runs `petit ...args` with a stdout nobody reads; returns its exit code and stderr. */
async function runIntoClosedPipe(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const home = makeHome("closed-stdout");
  try {
    const [program, prefix] = petitCommand();
    const child = spawn(program, [...prefix, ...args], {
      cwd: ROOT, env: { ...process.env, PETIT_HOME: home.dir, NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"],
    });
    // Closing our end at once: the reader has gone before petit writes a byte.
    child.stdout.destroy();
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (text: string) => (stderr += text));
    const code = await new Promise<number | null>((resolve) => child.once("close", (status) => resolve(status)));
    return { code, stderr };
  } finally {
    home.remove();
  }
}

for (const args of [["--help"], ["server", "init", "--domain", "relay.example.com", "--listen", "127.0.0.1"]]) {
  test(`"petit ${args.join(" ")}" into a closed pipe exits 141 without a stack trace`, async () => {
    const { code, stderr } = await runIntoClosedPipe(args);
    assert.doesNotMatch(stderr, /EPIPE|\n\s+at /, `stderr:\n${stderr}`);
    assert.equal(stderr, "");
    assert.equal(code, 141);
  });
}
