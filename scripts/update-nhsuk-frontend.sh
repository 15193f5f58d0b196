#!/usr/bin/env bash
# Vendor the compiled NHS.UK frontend build into competency_app/static/nhsuk/.
# Usage: scripts/update-nhsuk-frontend.sh [VERSION]   (default: the pinned version below)
# Keep VERSION in step with nhsuk-frontend-jinja (its README lists the matching versions).
#
# The compiled CSS loads the Frutiger webfont from a third-party host. Our Content Security
# Policy allows only this site (no staff IP addresses leak to third parties, and pages work
# on closed networks), so the @font-face rules are removed and the design system's fallback
# font stack (Arial) is used.
set -euo pipefail
VERSION="${1:-10.6.1}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DEST="$ROOT/competency_app/static/nhsuk"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

(cd "$WORK" && npm pack --silent "nhsuk-frontend@$VERSION" >/dev/null && tar xzf ./*.tgz)
DIST="$WORK/package/dist/nhsuk"

rm -rf "$DEST"
mkdir -p "$DEST"
python3 - "$DIST/nhsuk-frontend.min.css" "$DEST/nhsuk-frontend.min.css" <<'PY'
import re, sys
css = open(sys.argv[1], encoding="utf-8").read()
css = re.sub(r"@font-face\{[^}]*https?://[^}]*\}", "", css)
css = re.sub(r"/\*# sourceMappingURL=.*?\*/", "", css)
open(sys.argv[2], "w", encoding="utf-8").write(css)
PY
sed 's#//\# sourceMappingURL=.*##' "$DIST/nhsuk-frontend.min.js" > "$DEST/nhsuk-frontend.min.js"
cp -R "$DIST/assets" "$DEST/assets"
echo "$VERSION" > "$DEST/VERSION"
echo "Vendored nhsuk-frontend $VERSION into $DEST ($(du -sh "$DEST" | cut -f1))"
