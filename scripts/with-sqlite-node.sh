#!/usr/bin/env bash
# Runs a command with a Node that has node:sqlite first on PATH (see ensure-node.sh):
#   bash scripts/with-sqlite-node.sh npx mocha …
set -euo pipefail
BIN="$(bash "$(dirname "${BASH_SOURCE[0]}")/ensure-node.sh")"
export PATH="$BIN:$PATH"
exec "$@"
