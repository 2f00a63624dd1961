#!/bin/sh
# run.sh - the browser tests of the dashboard (tests/browser/*.test.mjs).
#
# Installs what they need when it is missing: Debian's chromium and
# libjs-dygraphs (through sudo when not root), Node.js when there is none,
# and the pinned playwright-core from package-lock.json (npm ci; the
# browser itself is Debian's, never downloaded).  Builds build/kmswatch
# when it is missing, then runs node's test runner over this folder.
#
# Environment: KMSWATCH_SCREENSHOT=PATH saves the main view there
# (default build/browser/dashboard.png); CHROMIUM=PATH another browser.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
sudo=
[ "$(id -u)" = 0 ] || sudo=sudo

missing=
for p in chromium libjs-dygraphs; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
	    grep -q 'install ok installed' || missing="$missing $p"
done
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 ||
	missing="$missing nodejs npm"
if [ -n "$missing" ]; then
	echo "browser tests: installing$missing"
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
	    $missing >/dev/null
fi

# npm ci only when node_modules does not hold the locked version, so that
# a second run needs no registry.
cd "$here"
want=$(node -p 'require("./package-lock.json")
    .packages["node_modules/playwright-core"].version')
have=$(node -p 'try {
    require("./node_modules/playwright-core/package.json").version
} catch { "" }')
if [ "$want" != "$have" ]; then
	echo "browser tests: npm ci (playwright-core $want)"
	npm ci --no-audit --no-fund --loglevel=error
fi

cd "$repo"
[ -x build/kmswatch ] || make build/kmswatch
exec node --test tests/browser/
