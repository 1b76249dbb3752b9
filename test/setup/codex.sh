#!/usr/bin/env bash
# Installs the pinned Codex CLI (the harness and the reference exec-server the environment tests run against) into
# .cache/codex, an ignored folder: a test peer, never a dependency of Deputy. Does nothing when it is already there.
set -euo pipefail
cd "$(dirname "$0")/../.."
VERSION=0.171.0 # keep in step with CODEX_PROTOCOL_VERSION in src/protocol/exec-server.ts
DIR=.cache/codex
BIN="$DIR/node_modules/@openai/codex-linux-x64/vendor/x86_64-unknown-linux-musl/bin/codex"
if [ -x "$BIN" ] && "$BIN" --version 2>/dev/null | grep -qx "codex-cli $VERSION"; then exit 0; fi
mkdir -p "$DIR"
cd "$DIR"
[ -f package.json ] || echo '{"name":"deputy-codex-cache","private":true}' > package.json
npm install --no-audit --no-fund --loglevel=error "@openai/codex@$VERSION"
