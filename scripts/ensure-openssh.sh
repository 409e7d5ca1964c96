#!/usr/bin/env bash
# Makes sure the OpenSSH client (ssh, ssh-keygen) and server (sshd) are installed.
# As root with apt-get, installs what is missing; otherwise prints the command to run.
set -euo pipefail
missing=()
command -v ssh >/dev/null 2>&1 && command -v ssh-keygen >/dev/null 2>&1 || missing+=(openssh-client)
[ -x /usr/sbin/sshd ] || command -v sshd >/dev/null 2>&1 || missing+=(openssh-server)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing ${missing[*]} (needed by petit)…" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq "${missing[@]}"; }
  # Debian's package may try to start the system sshd; petit runs its own and needs nothing from it.
  exit 0
fi
echo "petit needs OpenSSH: run 'sudo apt-get install -y ${missing[*]}' and try again." >&2
exit 1
