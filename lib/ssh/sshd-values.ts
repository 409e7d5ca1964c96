/**
 * The last check before a value becomes a word of sshd_config: config load
 * already refuses bad settings, but a value that reaches the renderer by
 * another way (a hand-built settings object, PETIT_HOME) must not be able to
 * add a directive of its own ("127.0.0.1\nPermitOpen any").
 * @module
 */

/** Returns why `value` cannot be one word of an sshd_config line, or undefined when it can. */
export function sshdWordProblem(value: string): string | undefined {
  if (value === "") return "it is empty";
  if (/[\r\n]/.test(value)) return "it contains a line break";
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(value)) return "it contains a control character";
  if (/["'\\]/.test(value)) return "it contains a quote or backslash";
  if (/\s/.test(value)) return "it contains whitespace";
  return undefined;
}

/**
 * Throws, naming the setting, when any of `values` (setting name → value,
 * such as "server.listen" → "0.0.0.0") cannot be one word of sshd_config.
 */
export function assertSshdWords(values: Record<string, string>): void {
  for (const [name, value] of Object.entries(values)) {
    const problem = sshdWordProblem(value);
    if (problem) throw new Error(`Cannot use ${name} ${JSON.stringify(value)}: ${problem}, so it cannot go into sshd_config`);
  }
}
