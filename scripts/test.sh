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
mapfile -t files < <(find test -name '*.test.ts' | sort)
# Two files at a time: e2e tests each run a relay, and this machine has two cores.
exec node --import tsx --test --test-concurrency=2 --test-reporter=spec "${files[@]}"
