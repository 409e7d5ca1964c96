import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkRelayList } from "../../../../lib/client/relay-list-check.ts";
import type { RelayEntry } from "../../../../lib/protocol/relay-list.ts";
import { RelayListSigner } from "../../../../lib/server/api/relay-list-signer.ts";
import { parsePublicKey } from "../../../../lib/ssh/public-key.ts";
import { signingKeyLine } from "../../../helpers/signing-keys.ts";

/** A relay host key pair in a temporary folder, as the relay's sshd has one. */
function hostKey(): { file: string; line: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), "petit-signer-"));
  const file = join(dir, "ssh_host_ed25519_key");
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "relay", "-f", file]);
  const line = readFileSync(`${file}.pub`, "utf8").split(" ").slice(0, 2).join(" ");
  return { file, line, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

test("RelayListSigner signs this relay and its peers once, again only when the peers change, and the client's check takes it", async () => {
  const key = hostKey();
  try {
    const self: RelayEntry = { name: "a:80", host: "127.0.0.1", port: 2201, api: "http://127.0.0.1:3014", host_key: key.line };
    let peers: RelayEntry[] = [{ name: "b:80", host: "127.0.0.2", port: 2202, api: "http://127.0.0.2:3014", host_key: signingKeyLine() }];
    const lines: string[] = [];
    const signer = new RelayListSigner({ self: () => self, peers: async () => peers, keyFile: key.file, log: (l) => lines.push(l) });
    const [one, two] = await Promise.all([signer.current(), signer.current()]);
    assert.equal(one, two, "concurrent callers share one signing");
    assert.equal(await signer.current(), one, "an unchanged list is not signed again");
    const outcome = await checkRelayList(one, { signerKey: parsePublicKey(key.line) });
    assert.deepEqual(outcome.list?.relays.map((r) => r.name), ["a:80", "b:80"]);

    peers = [...peers, { name: "c:80", host: "127.0.0.3", port: 2203, api: "", host_key: signingKeyLine() }];
    const skipped = await signer.current();
    assert.equal(skipped, one, "a peer that cannot be listed (no API address) is left out");
    assert.equal(lines.length, 1);
    assert.match(lines[0], /leaving out a relay of the store: relay "c:80": API address "" is not http\(s\):\/\/HOST:PORT/);
    await signer.current();
    assert.equal(lines.length, 1, "said once");

    peers = peers.slice(0, 1).concat({ ...peers[1], api: "http://127.0.0.3:3014" });
    const changed = await signer.current();
    assert.notEqual(changed, one);
    assert.match(changed.text, /^relay c:80 127\.0\.0\.3 2203 /m);
  } finally {
    key.remove();
  }
});
