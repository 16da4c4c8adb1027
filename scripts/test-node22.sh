#!/usr/bin/env bash
# Runs `npm test` on Node.js 22 in a scratch copy of the working tree, so the Node 20
# node_modules (better-sqlite3 is native) stay as they are. Node 22 comes from the npm registry
# (node-linux-<arch>), with its headers, so nothing but the registry is needed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
version=${WHARF_NODE22_VERSION:-22.23.3}
case "$(uname -m)" in
  x86_64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) echo "test-node22: no node-linux build for $(uname -m)" >&2; exit 1 ;;
esac
node22=${XDG_CACHE_HOME:-$HOME/.cache}/wharf/node-$version-linux-$arch
if [ ! -x "$node22/bin/node" ]; then
  fetch=$(mktemp -d)
  (cd "$fetch" && npm pack --silent "node-linux-$arch@$version" >/dev/null && tar -xzf ./*.tgz)
  mkdir -p "$(dirname "$node22")"
  rm -rf "$node22" && mv "$fetch/package" "$node22" && rm -rf "$fetch"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# tracked and new files, without node_modules, dist or anything else .gitignore names
git -C "$root" ls-files -z --cached --others --exclude-standard |
  (cd "$root" && tar --null --ignore-failed-read -T - -cf -) | tar -xf - -C "$work"
cd "$work"
export PATH="$node22/bin:$PATH" npm_config_nodedir="$node22"
echo "test-node22: $(node --version) in $work"
npm ci --no-audit --no-fund
npm test
