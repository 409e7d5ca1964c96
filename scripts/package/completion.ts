/**
 * Bash completion for petit, generated from the clipanion definitions: after
 * the longest command path typed so far it offers the next words of the
 * paths that continue it and, once a whole command is typed, its options.
 * @module
 */
import type { Definition } from "clipanion";

/** Returns the text of /usr/share/bash-completion/completions/petit. */
export function renderBashCompletion(definitions: Definition[]): string {
  const paths = new Map<string, Set<string>>(); // typed path -> next words
  const options = new Map<string, string[]>(); // whole command path -> its options
  for (const definition of definitions) {
    const words = definition.path.split(" ").slice(1); // drop "petit"
    if (words.some((word) => word.startsWith("-"))) continue; // --version, -h: offered with the options
    for (let i = 0; i < words.length; i++) {
      const prefix = words.slice(0, i).join(" ");
      if (!paths.has(prefix)) paths.set(prefix, new Set());
      paths.get(prefix)!.add(words[i]);
    }
    options.set(words.join(" "), ["--help", ...definition.options.flatMap((option) => option.nameSet)]);
  }
  const nextCases = [...paths].map(([prefix, next]) => `    ${shellWord(prefix)}) next=${shellWord([...next].sort().join(" "))} ;;`);
  const optionCases = [...options].map(([path, names]) => `    ${shellWord(path)}) opts=${shellWord(names.join(" "))} ;;`);
  return `# bash completion for petit; generated from its command definitions, do not edit.
_petit() {
  local cur path="" word i next="" opts=""
  cur=\${COMP_WORDS[COMP_CWORD]}
  # The command path typed so far: the leading words that are not options.
  for ((i = 1; i < COMP_CWORD; i++)); do
    word=\${COMP_WORDS[i]}
    [[ $word == -* ]] && break
    path=\${path:+$path }$word
  done
  case "$path" in
${nextCases.join("\n")}
  esac
  case "$path" in
${optionCases.join("\n")}
  esac
  if [[ $cur == -* || -z $next ]]; then
    [[ -z $path ]] && opts="--help --version"
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
    # An option's value (a file for --config, say): complete file names.
    [[ \${#COMPREPLY[@]} -eq 0 && $cur != -* ]] && COMPREPLY=($(compgen -f -- "$cur"))
  else
    COMPREPLY=($(compgen -W "$next" -- "$cur"))
  fi
}
complete -F _petit petit
`;
}

function shellWord(text: string): string {
  return `'${text.replaceAll("'", "'\\''")}'`;
}
