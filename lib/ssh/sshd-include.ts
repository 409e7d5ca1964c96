/**
 * Does an sshd_config read a given drop-in? Follows its top-level `Include`
 * lines (globs, relative paths, nested Includes) the way sshd does, so petit
 * can say which line is missing before it writes anything.
 * @module
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";

/** Where sshd looks for an Include given without an absolute path. */
const SSHD_DIR = "/etc/ssh";

/** Nesting depth at which sshd itself gives up. */
const MAX_DEPTH = 16;

/**
 * Tells whether `configFile` (or a file it includes) has an `Include` outside
 * any `Match` block whose pattern matches `target`. An Include inside a Match
 * block is conditional, so it does not count.
 * @example includes("/etc/ssh/sshd_config", "/etc/ssh/sshd_config.d/50-petit.conf")
 */
export function includes(configFile: string, target: string, depth = 0): boolean {
  if (depth > MAX_DEPTH) return false;
  const wanted = resolve(target);
  for (const pattern of topLevelIncludes(readFileSync(configFile, "utf8"))) {
    if (globToRegExp(pattern).test(wanted)) return true;
    for (const file of expandGlob(pattern)) {
      if (file !== wanted && includes(file, wanted, depth + 1)) return true;
    }
  }
  return false;
}

/** Returns the line to add to an sshd_config so that it reads every `*.conf` in `dropInDir`. */
export function includeLineFor(dropInDir: string): string {
  return `Include ${resolve(dropInDir)}/*.conf`;
}

/** Returns the absolute patterns of the `Include` lines of `text` that sit outside any Match block. */
export function topLevelIncludes(text: string): string[] {
  const patterns: string[] = [];
  let inMatch = false;
  for (const raw of text.split("\n")) {
    const words = splitWords(raw);
    if (words.length === 0) continue;
    const keyword = words[0].toLowerCase();
    // "Match all" on its own ends a Match block: what follows is global again.
    if (keyword === "match") inMatch = !(words.length === 2 && words[1].toLowerCase() === "all");
    else if (keyword === "include" && !inMatch) {
      patterns.push(...words.slice(1).map((p) => (isAbsolute(p) ? p : join(SSHD_DIR, p))));
    }
  }
  return patterns;
}

/** Splits a config line into words: `Key value`, `Key=value`, double quotes, `#` comments. */
function splitWords(line: string): string[] {
  const words: string[] = [];
  const re = /"([^"]*)"|([^\s"#=]+)|(#.*)|=/g;
  const text = line.trim();
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (m[3] !== undefined) break;
    if (m[1] !== undefined || m[2] !== undefined) words.push(m[1] ?? m[2]);
  }
  return words;
}

/** Turns an sshd glob (`*`, `?`, `[…]`) into an anchored RegExp over whole paths. */
export function globToRegExp(pattern: string): RegExp {
  let out = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "*") out += "[^/]*";
    else if (c === "?") out += "[^/]";
    else if (c === "[" && pattern.indexOf("]", i + 2) > 0) {
      const end = pattern.indexOf("]", i + 2);
      out += `[${pattern.slice(i + 1, end).replace(/^!/, "^").replace(/\\/g, "\\\\")}]`;
      i = end;
    } else out += c.replace(/[.+^${}()|\\]/g, "\\$&");
  }
  return new RegExp(`^${out}$`);
}

/** Lists the files a pattern names, in sshd's (lexical) order; wildcards only in the last part. */
function expandGlob(pattern: string): string[] {
  const dir = dirname(pattern);
  if (/[*?[]/.test(dir)) return [];
  if (!/[*?[]/.test(pattern)) return existsSync(pattern) ? [pattern] : [];
  const re = globToRegExp(pattern);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.sort().map((name) => join(dir, name)).filter((path) => re.test(path));
}
