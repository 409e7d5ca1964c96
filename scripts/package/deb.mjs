/**
 * Builds the Debian packages dist/petit_<version>_<arch>.deb with dpkg-deb
 * from files the repository owns: the single executable built by sea.mjs
 * (dist/petit-linux-x64 → amd64, dist/petit-linux-arm64 → arm64), the
 * maintainer scripts, control template and copyright in packaging/debian/,
 * and what generate.ts writes from petit's own code (units, man page, bash
 * completion). No network.
 *
 * Usage: node scripts/package/deb.mjs [--arch amd64|arm64 ...] [--version V] [--executable FILE] [--level 0-9] [--out DIR]
 *   --arch        default: every arch whose executable is in dist/
 *   --version     the package version (default: package.json's); a test builds an "upgrade" with it
 *   --executable  the executable to ship instead of dist/petit-linux-<cpu> (one --arch only)
 *   --level       xz compression level (default 6, dpkg's; tests use 0 to build in seconds)
 *   --out         folder for the .deb files and the build's scratch files (default dist/)
 * @module
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";

const root = resolve(import.meta.dirname, "../..");
const packaging = join(root, "packaging", "debian");

/** Debian architecture → the single executable's target. */
const TARGETS = { amd64: "linux-x64", arm64: "linux-arm64" };

/**
 * What dpkg-shlibdeps computes for the executable (Node 22's official
 * binary: libc, libstdc++, libgcc_s), written out so that a cross build
 * needs no foreign libraries; then OpenSSH, which petit runs.
 */
const DEPENDS = "libc6 (>= 2.34), libgcc-s1 (>= 3.4), libstdc++6 (>= 5.2), openssh-server, openssh-client";

const { values } = parseArgs({
  options: {
    arch: { type: "string", multiple: true },
    version: { type: "string" },
    executable: { type: "string" },
    level: { type: "string", default: "6" },
    out: { type: "string" },
  },
});
const out = resolve(values.out ?? join(root, "dist"));
const version = values.version ?? JSON.parse(readFileSync(join(root, "package.json"), "utf8")).version;
if (!/^[0-9][A-Za-z0-9.+~-]*$/.test(version)) throw new Error(`--version must be a Debian version such as "0.1.0", got "${version}"`);
const arches = values.arch ?? Object.keys(TARGETS).filter((arch) => existsSync(executableOf(arch)));
if (arches.length === 0) throw new Error('No executable in dist/ to package: run "npm run package:sea" first');
if (!/^[0-9]$/.test(values.level)) throw new Error(`--level must be an xz level from 0 to 9, got "${values.level}"`);
if (values.executable && arches.length !== 1) throw new Error(`--executable needs exactly one --arch, got ${arches.length}`);

// The man page, completion and units: the same for every arch.
const generated = join(out, "deb", "generated");
execFileSync(process.execPath, ["--import", "tsx", join(import.meta.dirname, "generate.ts"), generated, version], { cwd: root, stdio: "inherit" });
for (const arch of arches) buildPackage(arch);

function executableOf(arch) {
  if (!TARGETS[arch]) throw new Error(`--arch must be one of ${Object.keys(TARGETS).join(", ")}, got "${arch}"`);
  return values.executable ? resolve(values.executable) : join(root, "dist", `petit-${TARGETS[arch]}`);
}

/** Lays out the package's files under dist/deb/<arch>/ and runs dpkg-deb on them. */
function buildPackage(arch) {
  const started = Date.now();
  const executable = executableOf(arch);
  if (!existsSync(executable)) throw new Error(`Cannot package ${arch}: no executable at "${executable}" (run "npm run package:sea")`);
  const tree = join(out, "deb", arch);
  rmSync(tree, { recursive: true, force: true });
  const put = (path, from, mode = 0o644) => {
    const target = join(tree, path);
    mkdirSync(dirname(target), { recursive: true, mode: 0o755 });
    if (Buffer.isBuffer(from)) writeFileSync(target, from);
    else copyFileSync(from, target);
    chmodSync(target, mode);
  };
  put("usr/bin/petit", executable, 0o755);
  for (const unit of ["petit-server.service", "petit.service"]) put(`lib/systemd/system/${unit}`, join(generated, unit));
  put("usr/share/man/man1/petit.1.gz", gzip(readFileSync(join(generated, "petit.1"))));
  put("usr/share/bash-completion/completions/petit", join(generated, "petit.bash"));
  put("usr/share/doc/petit/copyright", join(packaging, "copyright"));
  put("usr/share/doc/petit/changelog.gz", gzip(Buffer.from(changelog())));
  put("usr/share/lintian/overrides/petit", join(packaging, "lintian-overrides"));
  // /etc/petit makes root's petit the system installation; petit writes config.toml into it (never dpkg, so upgrades keep it).
  mkdirSync(join(tree, "etc/petit"), { recursive: true, mode: 0o755 });
  mkdirSync(join(tree, "var/lib/petit"), { recursive: true, mode: 0o755 });

  const files = listFiles(tree);
  const installedSize = files.reduce((sum, file) => sum + Math.ceil(statSync(join(tree, file)).size / 1024), 0) + 4 * 8;
  const md5sums = files.map((file) => `${createHash("md5").update(readFileSync(join(tree, file))).digest("hex")}  ${file}\n`).join("");
  put("DEBIAN/md5sums", Buffer.from(md5sums));
  const control = readFileSync(join(packaging, "control.in"), "utf8")
    .replace("@VERSION@", version).replace("@ARCH@", arch)
    .replace("@INSTALLED_SIZE@", String(installedSize)).replace("@DEPENDS@", DEPENDS);
  put("DEBIAN/control", Buffer.from(control));
  for (const script of ["postinst", "prerm", "postrm"]) put(`DEBIAN/${script}`, join(packaging, script), 0o755);

  const deb = join(out, `petit_${version}_${arch}.deb`);
  // --root-owner-group: every file root:root whoever builds.
  execFileSync("dpkg-deb", ["--root-owner-group", "-Zxz", `-z${values.level}`, "--build", tree, deb], { stdio: ["ignore", "ignore", "inherit"] });
  const mib = (statSync(deb).size / 1024 / 1024).toFixed(1);
  console.log(`built ${relative(root, deb)} (${mib} MiB) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

/** Every file under `dir`, relative, sorted (for md5sums and the size). */
function listFiles(dir) {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((name) => !name.startsWith("DEBIAN") && statSync(join(dir, name)).isFile())
    .sort();
}

/** gzip -9n: no name, no time stamp, so the same input gives the same bytes. */
function gzip(buffer) {
  return gzipSync(buffer, { level: 9 });
}

/** A native package's changelog: one entry for this version. */
function changelog() {
  const epoch = Number(process.env.SOURCE_DATE_EPOCH);
  const date = Number.isFinite(epoch) && epoch > 0 ? new Date(epoch * 1000) : new Date();
  return `petit (${version}) unstable; urgency=medium\n\n  * petit ${version}; see the project's history for the changes.\n\n` +
    ` -- petit maintainers <maintainers@petit.invalid>  ${date.toUTCString().replace("GMT", "+0000")}\n`;
}
