/**
 * A headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core)
 * for the e2e tests of the web console and the relay dashboard.
 * @module
 */
import { execa } from "execa";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { ROOT } from "./petit.ts";

/** Where Debian's chromium package puts the browser. */
export const CHROMIUM = "/usr/bin/chromium";

/**
 * Makes sure Chromium is there: as root under CI (CI=true) it is installed
 * with apt-get when missing. Returns why the browser tests must be skipped,
 * or undefined when they can run.
 */
export async function chromiumSkipReason(): Promise<string | undefined> {
  if (existsSync(CHROMIUM)) return undefined;
  if (process.getuid?.() === 0 && process.env.CI === "true") {
    // Both browser test files may get here at once: flock lets one install while the other waits.
    const script = "apt-get install -y -qq chromium || { apt-get update -qq && apt-get install -y -qq chromium; }";
    const result = await execa("flock", ["-w", "900", "/tmp/petit-chromium-install.lock", "sh", "-c", script], {
      reject: false, stdin: "ignore", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    });
    if (existsSync(CHROMIUM)) return undefined;
    return `${CHROMIUM} is missing and "apt-get install -y chromium" failed: ${String(result.stderr).trim().split("\n").at(-1)}`;
  }
  return `${CHROMIUM} is missing (install it with "apt-get install -y chromium"; the tests do so themselves as root with CI=true)`;
}

/** A running headless Chromium with a fresh profile, removed by close(). */
export interface TestBrowser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** Starts headless Chromium with a fresh profile and a 1280×860 viewport; `args` go to Chromium after the usual ones. */
export async function launchBrowser(args: string[] = []): Promise<TestBrowser> {
  const profile = mkdtempSync(join(tmpdir(), "petit-chromium-"));
  try {
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1280, height: 860 },
      args: [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync", ...args,
      ],
    });
    return {
      context,
      async close() {
        await context.close().catch(() => undefined);
        rmSync(profile, { recursive: true, force: true });
      },
    };
  } catch (error) {
    rmSync(profile, { recursive: true, force: true });
    throw error;
  }
}

/**
 * Captures `page` as `name` (a PNG) and checks it is one. Into
 * docs/screenshots/ only with PETIT_UPDATE_SCREENSHOTS=1, so that a test run
 * leaves the tracked pictures alone; else into a temporary folder, removed after.
 */
export async function captureScreenshot(page: Page, name: string): Promise<void> {
  const update = process.env.PETIT_UPDATE_SCREENSHOTS === "1";
  const dir = update ? join(ROOT, "docs/screenshots") : mkdtempSync(join(tmpdir(), "petit-screenshot-"));
  try {
    mkdirSync(dir, { recursive: true });
    const path = join(dir, name);
    await page.screenshot({ path, fullPage: true });
    const png = readFileSync(path);
    assert.ok(png.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])), `${path} is not a PNG`);
    // Width and height from the IHDR chunk: a real page, not an empty frame.
    assert.ok(png.readUInt32BE(16) >= 600 && png.readUInt32BE(20) >= 300, `${path} is ${png.readUInt32BE(16)}×${png.readUInt32BE(20)}`);
  } finally {
    if (!update) rmSync(dir, { recursive: true, force: true });
  }
}
