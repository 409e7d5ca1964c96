/**
 * Opening a URL in the desktop's browser with xdg-open, for `petit ui --open`.
 * @module
 */
import { spawn } from "node:child_process";

/** Starts `xdg-open url` detached; resolves with why it could not, or undefined when it started. */
export function openBrowser(url: string, program = "xdg-open"): Promise<string | undefined> {
  return new Promise((resolve) => {
    const child = spawn(program, [url], { detached: true, stdio: "ignore" });
    child.once("error", (error: NodeJS.ErrnoException) =>
      resolve(error.code === "ENOENT" ? `${program} is not installed` : `${program} failed: ${error.message}`));
    child.once("spawn", () => {
      child.unref();
      resolve(undefined);
    });
  });
}
