#!/usr/bin/env bash
# Pack "Enlighten Desktop.app" into a compressed disk image with an Applications shortcut to drag it onto,
# and sign the image when MACOS_SIGN_IDENTITY is set (sign the app first: packaging/macos/sign_app.sh).
#
#   packaging/macos/make_dmg.sh "dist/Enlighten Desktop.app" dist/enlighten-desktop-0.1.0-macos-arm64.dmg
set -euo pipefail
app=$1; dmg=$2
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cp -R "$app" "$stage/"
ln -s /Applications "$stage/Applications"
rm -f "$dmg"
hdiutil create -volname "Enlighten Desktop" -srcfolder "$stage" -fs HFS+ -format UDZO -ov "$dmg"
if [[ -n "${MACOS_SIGN_IDENTITY:-}" ]]; then
    codesign --force --timestamp --sign "$MACOS_SIGN_IDENTITY" "$dmg"
fi
echo "disk image: $dmg"
