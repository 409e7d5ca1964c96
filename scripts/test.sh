#!/usr/bin/env bash
# The whole test suite: installs OpenSSH if missing, type-checks, bundles,
# then runs every test with node's test runner (real sshd, ssh and HTTP on loopback).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-openssh.sh
echo "== typecheck"
npx tsc --noEmit -p .
echo "== build"
node scripts/build.mjs
echo "== tests"
# Load tests (sustained proxy load, many clients) saturate the machine: they run
# alone, after the rest, so they neither disturb nor are disturbed.
heavy=(-path 'test/reliability/load*' -o -path 'test/reliability/many-clients*')
mapfile -t files < <(find test -name '*.test.ts' ! \( "${heavy[@]}" \) | sort)
mapfile -t alone < <(find test -name '*.test.ts' \( "${heavy[@]}" \) | sort)
# Two files at a time: e2e tests each run a relay, and this machine has two cores.
status=0
node --import tsx --test --test-concurrency=2 --test-reporter=spec "${files[@]}" || status=$?
if [ ${#alone[@]} -gt 0 ]; then
  echo "== load tests, alone"
  node --import tsx --test --test-concurrency=1 --test-reporter=spec "${alone[@]}" || status=$?
fi
exit "$status"
