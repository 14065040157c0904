#!/usr/bin/env bash
# Installs everything shardline's tests need beyond `npm ci`, on a fresh Debian machine, as root:
#   - Debian packages: redis-server, chromium, prometheus (and python3-venv if the venv module is unusable)
#   - a Python venv at .venv with moto[server] (KMS + DynamoDB emulator, `.venv/bin/moto_server`)
#   - the Java KCL MultiLangDaemon jars in kcl/jars/ (resolved by kcl/pom.xml; needs Java and Maven)
# Idempotent: every step is skipped when its result is already there, so a second run takes about a second.
# Usage: bash scripts/setup.sh        (from anywhere; paths are relative to the repository root)
set -euo pipefail

MOTO_VERSION="5.2.5"
APT_PACKAGES=(redis-server chromium prometheus)

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

log() { printf 'setup: %s\n' "$*" >&2; }
die() { printf 'setup: ERROR: %s\n' "$*" >&2; exit 1; }

# Runs a noisy command with its output in a temp log; on failure shows the log's tail and dies with $1.
STEP_LOG="$(mktemp -t shardline-setup.XXXXXX)"
trap 'rm -f "$STEP_LOG"' EXIT
quiet() {
  local what="$1"; shift
  if ! "$@" >"$STEP_LOG" 2>&1; then
    tail -n 30 "$STEP_LOG" >&2
    die "$what"
  fi
}

apt_updated=0
apt_install() {
  command -v apt-get >/dev/null 2>&1 || die "apt-get not found; install manually: $*"
  if [ "$(id -u)" -ne 0 ]; then die "must run as root to install Debian packages: $*"; fi
  if [ "$apt_updated" -eq 0 ]; then
    log "apt-get update"
    quiet "apt-get update failed" env DEBIAN_FRONTEND=noninteractive apt-get update
    apt_updated=1
  fi
  log "apt-get install -y $*"
  quiet "apt-get install failed for: $*" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@"
}

is_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

# 1. Debian packages -----------------------------------------------------------------------------
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  is_installed "$pkg" || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  apt_install "${missing[@]}"
else
  log "Debian packages present: ${APT_PACKAGES[*]}"
fi
command -v redis-server >/dev/null 2>&1 || die "redis-server is still not on PATH after installing it"

# 2. Python venv with moto[server] ------------------------------------------------------------------
moto_ok() {
  [ -x .venv/bin/moto_server ] && [ -x .venv/bin/python ] \
    && [ "$(.venv/bin/python -c 'import importlib.metadata as m; print(m.version("moto"))' 2>/dev/null)" = "$MOTO_VERSION" ]
}
if moto_ok; then
  log "moto $MOTO_VERSION present in .venv"
else
  PY="$(command -v python3 || true)"
  [ -n "$PY" ] || die "python3 not found (install Debian's python3 and python3-venv)"
  if [ ! -x .venv/bin/python ]; then
    if ! "$PY" -c 'import venv, ensurepip' >/dev/null 2>&1; then
      apt_install python3-venv
    fi
    log "creating .venv with $PY"
    rm -rf .venv
    "$PY" -m venv .venv || die "python3 -m venv .venv failed (is python3-venv installed?)"
  fi
  log "pip install moto[server]==$MOTO_VERSION into .venv"
  quiet "pip install moto[server]==$MOTO_VERSION failed" \
    .venv/bin/python -m pip install --disable-pip-version-check "moto[server]==$MOTO_VERSION"
  moto_ok || die "moto_server missing from .venv/bin after install"
fi

# 3. KCL MultiLangDaemon jars ----------------------------------------------------------------------
KCL_VERSION="$(sed -n 's:.*<kcl.version>\(.*\)</kcl.version>.*:\1:p' kcl/pom.xml | head -n 1)"
[ -n "$KCL_VERSION" ] || die "could not read <kcl.version> from kcl/pom.xml"
if [ -f "kcl/jars/amazon-kinesis-client-multilang-$KCL_VERSION.jar" ] \
   && [ -f "kcl/jars/amazon-kinesis-client-$KCL_VERSION.jar" ]; then
  log "KCL MultiLangDaemon $KCL_VERSION jars present in kcl/jars/"
else
  command -v java >/dev/null 2>&1 || die "Java not found: install a JDK/JRE 17 (Debian: openjdk-17-jre-headless) to run the KCL MultiLangDaemon"
  command -v mvn >/dev/null 2>&1 || die "Maven not found: install it (Debian: maven) to fetch the KCL MultiLangDaemon jars"
  log "mvn dependency:copy-dependencies (KCL $KCL_VERSION) into kcl/jars/"
  rm -rf kcl/jars
  quiet "Maven could not resolve software.amazon.kinesis:amazon-kinesis-client-multilang:$KCL_VERSION" \
    mvn -q -B -f kcl/pom.xml dependency:copy-dependencies
  [ -f "kcl/jars/amazon-kinesis-client-multilang-$KCL_VERSION.jar" ] || die "kcl/jars/ lacks the multilang jar after mvn"
  log "kcl/jars/: $(find kcl/jars -name '*.jar' | wc -l) jars"
fi

log "done"
