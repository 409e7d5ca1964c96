/**
 * Which layout petit uses: a user's ~/.petit, PETIT_HOME, or the Debian
 * package's system installation (/etc/petit and /var/lib/petit) for root.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { homedir } from "node:os";
import { join } from "node:path";
import { defaultConfigFile, isSystemInstallation, petitHome } from "../../lib/paths.ts";

const packaged = (path: string) => path === "/etc/petit";
const notPackaged = () => false;

describe("the installation's layout", () => {
  test("isSystemInstallation() is true for root when /etc/petit exists and PETIT_HOME is unset", () => {
    assert.equal(isSystemInstallation({ env: {}, uid: 0, isDirectory: packaged }), true);
  });

  test("isSystemInstallation() is false for a user other than root, even with the package installed", () => {
    assert.equal(isSystemInstallation({ env: {}, uid: 1000, isDirectory: packaged }), false);
  });

  test("isSystemInstallation() is false for root without the package's /etc/petit", () => {
    assert.equal(isSystemInstallation({ env: {}, uid: 0, isDirectory: notPackaged }), false);
  });

  test("isSystemInstallation() accepts PETIT_HOME=/var/lib/petit (the units' setting) and nothing else", () => {
    assert.equal(isSystemInstallation({ env: { PETIT_HOME: "/var/lib/petit" }, uid: 0, isDirectory: packaged }), true);
    assert.equal(isSystemInstallation({ env: { PETIT_HOME: "/var/lib/petit/" }, uid: 0, isDirectory: packaged }), true);
    assert.equal(isSystemInstallation({ env: { PETIT_HOME: "/srv/petit" }, uid: 0, isDirectory: packaged }), false);
  });

  test("petitHome() is /var/lib/petit for the system installation, ~/.petit for a user, PETIT_HOME when set", () => {
    assert.equal(petitHome({}, { uid: 0, isDirectory: packaged }), "/var/lib/petit");
    assert.equal(petitHome({}, { uid: 1000, isDirectory: packaged }), join(homedir(), ".petit"));
    assert.equal(petitHome({ PETIT_HOME: "/srv/petit" }, { uid: 0, isDirectory: packaged }), "/srv/petit");
  });

  test("defaultConfigFile() is /etc/petit/config.toml for the system installation, else config.toml in the home", () => {
    assert.equal(defaultConfigFile({}, { uid: 0, isDirectory: packaged }), "/etc/petit/config.toml");
    assert.equal(defaultConfigFile({ PETIT_HOME: "/var/lib/petit" }, { uid: 0, isDirectory: packaged }), "/etc/petit/config.toml");
    assert.equal(defaultConfigFile({ PETIT_HOME: "/srv/petit" }, { uid: 0, isDirectory: packaged }), "/srv/petit/config.toml");
    assert.equal(defaultConfigFile({}, { uid: 1000, isDirectory: packaged }), join(homedir(), ".petit", "config.toml"));
  });
});
