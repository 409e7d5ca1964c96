/**
 * Bulk transfer: one large streamed download, timed with curl when installed
 * (a separate process, like a real visitor), else with undici.
 * @module
 */
import { request } from "undici";
import { runBounded } from "./tools.ts";

/** Downloads `size` bytes from `url` sending `headers`; resolves with MB/s (10^6 bytes per second). */
export async function downloadRate(
  url: string, headers: Record<string, string>, size: number, tool: "curl" | "undici",
): Promise<number> {
  const full = `${url}/bulk?size=${size}`;
  if (tool === "curl") {
    const out = await runBounded("curl", [
      "-sS", "-o", "/dev/null", "--max-time", "120", ...Object.entries(headers).flatMap(([name, value]) => ["-H", `${name}: ${value}`]),
      "-w", "%{http_code} %{size_download} %{time_total}", full,
    ], 130_000);
    const [status, bytes, seconds] = out.trim().split(" ").map(Number);
    checkDownload(full, status, bytes, size);
    return bytes / seconds / 1e6;
  }
  const start = performance.now();
  const res = await request(full, { headers, headersTimeout: 30_000, bodyTimeout: 30_000 });
  let bytes = 0;
  for await (const chunk of res.body) bytes += (chunk as Buffer).length;
  const seconds = (performance.now() - start) / 1000;
  checkDownload(full, res.statusCode, bytes, size);
  return bytes / seconds / 1e6;
}

function checkDownload(url: string, status: number, bytes: number, size: number): void {
  if (status !== 200 || bytes !== size) {
    throw new Error(`Download of "${url}" failed: status ${status}, ${bytes} of ${size} bytes`);
  }
}
