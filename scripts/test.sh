#!/usr/bin/env bash
# The test command of the README, and what CI runs (.ci/run): on a fresh Debian machine it installs everything the
# tests need (npm packages, Redis, Chromium, moto, the KCL daemon's jars), builds, typechecks, lints and runs every
# test. Local servers (kinesis-local, kinesalite, dynalite, moto, redis-server) are started by the tests' global setup
# on loopback ports and stopped at the end.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

step() { printf '\n== %s\n' "$*" >&2; }

step "npm ci"
npm ci --no-audit --no-fund
step "system packages, moto, KCL daemon jars (scripts/setup.sh)"
bash scripts/setup.sh
step "build (the CLI tests run dist/)"
npm run --silent build
step "typecheck"
npm run --silent typecheck
step "lint"
npm run --silent lint
step "tests"
report="$(mktemp)"
status=0
npx jest --ci --maxWorkers=2 --json --outputFile="$report" "$@" || status=$?
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const skipped = r.numPendingTests + r.numTodoTests;
  console.log(`jest: ${r.numPassedTests} passed, ${r.numFailedTests} failed${skipped ? `, ${skipped} skipped` : ""}`);
' "$report" || true
rm -f "$report"
exit "$status"
