#!/usr/bin/env bash
# Makes sure Let's Encrypt's test CA is installed: pebble and pebble-challtestsrv (Debian's "pebble" package),
# for the ACME tests. As root with apt-get, installs it; otherwise prints the command to run.
set -euo pipefail
command -v pebble >/dev/null 2>&1 && command -v pebble-challtestsrv >/dev/null 2>&1 && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing pebble (the ACME tests' CA)…" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq pebble >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq pebble; }
  exit 0
fi
echo "The ACME tests need pebble: run 'sudo apt-get install -y pebble' and try again." >&2
exit 1
