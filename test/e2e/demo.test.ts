/**
 * The README's first quick-start command: `npm run demo` brings up a relay, a
 * client and a sample service, proves a proxied request, and cleans up.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execa } from "execa";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "../helpers/petit.ts";

test("the demo serves the sample service through the relay and removes its files", async () => {
  const result = await execa(process.execPath, ["--import", "tsx", "scripts/demo.ts"], {
    cwd: ROOT, env: { PETIT_DEMO_EXIT: "1" }, reject: false, timeout: 120_000, stdin: "ignore",
  });
  assert.equal(result.exitCode, 0, String(result.stderr));
  assert.match(String(result.stdout), /answered: {4}200 Hello from the private service behind petit!/);
  const curl = /try: +(curl -H 'Proxy-Authorization: Bearer \S+' http:\/\/1001\.localhost:\d+\/)/.exec(String(result.stdout));
  assert.ok(curl, "the demo prints a ready curl command with the access token");
  assert.match(String(result.stdout), /without it: {2}407 /, "a visitor without the token is refused");
  const homes = [...String(result.stdout).matchAll(/home: +(\S+)/g)].map((m) => m[1]);
  assert.equal(homes.length, 2);
  for (const home of homes) assert.equal(existsSync(home), false, `${home} is removed`);
});

test("the README's quick start sends the access token that petit register prints, as the demo does", () => {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const quickStart = readme.slice(readme.indexOf("## Quick start"), readme.indexOf("## Commands"));
  const curl = /^curl (.*?) {2,}#/m.exec(quickStart);
  assert.ok(curl, "the quick start has a curl command");
  // The same shape the demo prints (and the demo test runs through a real relay): header first, then the URL,
  // which is HTTPS for real use (the quick start's relay gets its certificate by ACME).
  assert.equal(curl[1], "-H 'Proxy-Authorization: Bearer ACCESS_TOKEN' https://1001.relay.example.com/");
  assert.match(quickStart, /--acme-email/, "the relay of the real-use quick start speaks HTTPS from its first command");
  assert.match(quickStart, /prints the public URL and the client's access token/);
  assert.match(quickStart, /`407`/, "it says what a visitor without the token gets");
});
