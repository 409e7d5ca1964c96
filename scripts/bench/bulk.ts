/**
 * Bulk transfer: one large streamed download, and one upload, timed with
 * curl when installed (a separate process, like a real visitor), else with
 * undici. HTTPS targets use the bench's self-signed certificate, unchecked.
 * @module
 */
import { closeSync, mkdtempSync, openSync, rmSync, ftruncateSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Agent, request } from "undici";
import { onCleanup } from "./cleanup.ts";
import { runBounded } from "./tools.ts";

/** Accepts the bench's self-signed certificate. */
const insecure = new Agent({ connect: { rejectUnauthorized: false } });

const headerArgs = (headers: Record<string, string>) => Object.entries(headers).flatMap(([name, value]) => ["-H", `${name}: ${value}`]);

/** Downloads `size` bytes from `url` sending `headers`; resolves with MB/s (10^6 bytes per second). */
export async function downloadRate(
  url: string, headers: Record<string, string>, size: number, tool: "curl" | "undici",
): Promise<number> {
  const full = `${url}/bulk?size=${size}`;
  if (tool === "curl") {
    const out = await runBounded("curl", [
      "-sS", "-k", "-o", "/dev/null", "--max-time", "120", ...headerArgs(headers), "-w", "%{http_code} %{size_download} %{time_total}", full,
    ], 130_000);
    const [status, bytes, seconds] = out.trim().split(" ").map(Number);
    check(full, status, bytes, size);
    return bytes / seconds / 1e6;
  }
  const start = performance.now();
  const res = await request(full, { headers, headersTimeout: 30_000, bodyTimeout: 30_000, dispatcher: insecure });
  let bytes = 0;
  for await (const chunk of res.body) bytes += (chunk as Buffer).length;
  const seconds = (performance.now() - start) / 1000;
  check(full, res.statusCode, bytes, size);
  return bytes / seconds / 1e6;
}

let sparse: { path: string; size: number } | undefined;

/** A file of `size` zero bytes that takes no disk (a hole), made once, removed at cleanup. */
function zeros(size: number): string {
  if (sparse?.size === size) return sparse.path;
  const dir = mkdtempSync(join(tmpdir(), "petit-bench-upload-"));
  onCleanup("bench upload file", async () => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, "zeros");
  const fd = openSync(path, "w");
  ftruncateSync(fd, size);
  closeSync(fd);
  sparse = { path, size };
  return path;
}

/** Uploads `size` bytes to `url`/upload (PUT, Content-Length); resolves with MB/s. Needs curl; NaN without it. */
export async function uploadRate(url: string, headers: Record<string, string>, size: number, tool: "curl" | "undici"): Promise<number> {
  if (tool !== "curl") return NaN;
  const full = `${url}/upload`;
  const out = await runBounded("curl", [
    "-sS", "-k", "-o", "/dev/null", "--max-time", "120", ...headerArgs(headers), "-H", "Expect:",
    "-T", zeros(size), "-w", "%{http_code} %{size_upload} %{time_total}", full,
  ], 130_000);
  const [status, bytes, seconds] = out.trim().split(" ").map(Number);
  check(full, status, bytes, size);
  return bytes / seconds / 1e6;
}

function check(url: string, status: number, bytes: number, size: number): void {
  if (status !== 200 || bytes !== size) {
    throw new Error(`Transfer with "${url}" failed: status ${status}, ${bytes} of ${size} bytes`);
  }
}
