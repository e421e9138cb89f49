#!/usr/bin/env bash
# Sign "Enlighten Desktop.app" for distribution with a Developer ID, inside out: every Mach-O file one by
# one, then each nested framework (Qt's), then the executables, then the bundle. `codesign --deep` is not
# used: Apple discourages it and it signs nested code with the wrong options.
#
#   MACOS_SIGN_IDENTITY="Developer ID Application: Name (TEAMID)" packaging/macos/sign_app.sh "dist/Enlighten Desktop.app"
#
# Without MACOS_SIGN_IDENTITY it says so and exits 0, leaving PyInstaller's ad-hoc signature: the app then
# runs on the build machine, and elsewhere only after the user allows it (right-click > Open).
set -euo pipefail
app=$1
if [[ -z "${MACOS_SIGN_IDENTITY:-}" ]]; then
    echo "MACOS_SIGN_IDENTITY is not set: signing skipped (ad-hoc signature kept)."
    exit 0
fi
here=$(cd "$(dirname "$0")" && pwd)
sign() {
    codesign --force --timestamp --options runtime --sign "$MACOS_SIGN_IDENTITY" "$@"
}
# Entitlements belong to executables (and the bundle), not to libraries.
sign_executable() {
    sign --entitlements "$here/entitlements.plist" "$@"
}

# 1. Every Mach-O file that is not a framework's main binary, deepest paths first.
find "$app/Contents" -type f ! -path "*/MacOS/*" -print0 | while IFS= read -r -d '' file; do
    if file -b "$file" | grep -q "Mach-O"; then printf '%s\n' "$file"; fi
done | awk '{ print length, $0 }' | sort -rn | cut -d' ' -f2- | while IFS= read -r file; do
    sign "$file"
done
# 2. Nested frameworks (PySide6's Qt*.framework), each as a bundle, deepest first.
find "$app/Contents" -type d -name "*.framework" | awk '{ print length, $0 }' | sort -rn | cut -d' ' -f2- |
    while IFS= read -r framework; do sign "$framework"; done
# 3. The executables, then the app itself.
for exe in "$app"/Contents/MacOS/*; do sign_executable "$exe"; done
sign_executable "$app"

codesign --verify --strict --verbose=2 "$app"
echo "signed: $app"
