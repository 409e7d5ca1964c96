/**
 * petit(1), the man page, written in roff from the clipanion definitions:
 * one subsection per command with its usage, description, details, options
 * and examples, then the files of the Debian package's system installation.
 * @module
 */
import type { Definition } from "clipanion";

/** Returns the text of petit.1 for `version`, dated `date` (YYYY-MM-DD). */
export function renderManPage(definitions: Definition[], version: string, date: string): string {
  const lines = [
    `.TH PETIT 1 "${date}" "petit ${version}" "User Commands"`,
    ".SH NAME",
    "petit \\- a small self-hosted reverse-tunnel relay on stock OpenSSH",
    ".SH SYNOPSIS",
    ".B petit",
    ".I command",
    ".RI [ options ]",
    ".br",
    ".B petit --help",
    "|",
    ".B petit --version",
    ".SH DESCRIPTION",
    "petit gives a machine behind NAT a public address: the relay runs its own sshd, a registration API and a",
    "Host-header HTTP proxy; each client keeps one \\fBssh -R\\fR tunnel open to it and is reached at",
    "\\fIid\\fR.\\fIdomain\\fR. Every command prints its own help with \\fB--help\\fR.",
    ".SH COMMANDS",
  ];
  for (const definition of definitions) {
    lines.push(".SS " + roff(definition.usage), ...paragraph(definition.description ?? ""));
    if (definition.details) lines.push(...paragraphs(definition.details));
    for (const option of definition.options) {
      lines.push(".TP", `.B ${roff(option.definition)}`, ...paragraph(option.description ?? ""));
    }
    for (const [what, command] of definition.examples ?? []) {
      lines.push(".PP", `${roff(unwrap(what))}:`, ".RS", ".nf", roff(command), ".fi", ".RE");
    }
  }
  lines.push(
    ".SH FILES",
    "A user's petit keeps its config and state in \\fI~/.petit\\fR (or \\fB$PETIT_HOME\\fR).",
    "Root's petit on a machine with the Debian package (which creates \\fI/etc/petit\\fR) is the system installation,",
    "shared with the packaged units:",
    ".TP", ".I /etc/petit/config.toml", "The config, written by \\fBpetit server init\\fR and \\fBpetit register\\fR; upgrades keep it.",
    ".TP", ".I /var/lib/petit/", "State: keys, tokens, the registry, the relay's sshd files.",
    ".TP", ".I petit-server.service, petit.service",
    "The relay's and the client's units. They do not start before the config exists; enable one with",
    "\\fBsystemctl enable --now petit-server\\fR (or \\fBpetit\\fR). Their logs: \\fBjournalctl -u petit-server\\fR.",
    ".SH ENVIRONMENT",
    ".TP", ".B PETIT_HOME", "The folder of the installation's state (and, outside the system installation, of config.toml).",
    ".TP", ".B PETIT_CONFIG", "The config file, like \\fB--config\\fR.",
    ".SH SEE ALSO",
    ".BR ssh (1),",
    ".BR sshd (8),",
    ".BR systemctl (1)",
  );
  return lines.join("\n") + "\n";
}

/** Clipanion wraps texts at 80 columns: join the lines of each paragraph again. */
function unwrap(text: string): string {
  return text.split("\n").map((line) => line.trim()).join(" ").replace(/\s+/g, " ").trim();
}

function paragraph(text: string): string[] {
  const line = unwrap(text);
  return line ? [roff(line)] : [];
}

function paragraphs(text: string): string[] {
  return text.split(/\n\s*\n/).flatMap((part) => {
    const line = unwrap(part);
    return line ? [".PP", roff(line)] : [];
  });
}

/** Escapes text for roff: backslashes, leading dots and quotes, dashes; `code` in bold. */
export function roff(text: string): string {
  const escaped = text.replaceAll("\\", "\\e").replaceAll("-", "\\-").replace(/`([^`]*)`/g, "\\fB$1\\fR");
  return /^[.']/.test(escaped) ? `\\&${escaped}` : escaped;
}
