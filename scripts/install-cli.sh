#!/usr/bin/env bash
# Puts `meshexec` on the PATH as a symlink to this checkout's built CLI (make install runs it after
# make build), so a later build is picked up with no reinstall. PREFIX (default /usr/local) picks
# the directory: $PREFIX/bin/meshexec. Chosen over `npm link`, which installs into npm's global
# prefix and may reinstall the checkout's node_modules; this is one symlink, removed with rm.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cli="$root/dist/src/cli/main.js"
bin="${PREFIX:-/usr/local}/bin"

[[ -f "$cli" ]] || { echo "install-cli: $cli is missing; run make build first" >&2; exit 1; }
# The symlink runs main.js through its #! line; npm run build marks it executable.
[[ -x "$cli" ]] || { echo "install-cli: $cli is not executable; run make build again" >&2; exit 1; }
mkdir -p "$bin"
ln -sfn "$cli" "$bin/meshexec"
echo "meshexec -> $cli (in $bin$([[ ":$PATH:" == *":$bin:"* ]] || echo ", which is not on your PATH"))"
