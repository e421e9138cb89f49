#!/usr/bin/env bash
# Notarise a signed disk image with Apple and staple the ticket, so Gatekeeper accepts it offline.
#
#   APPLE_ID=... APPLE_TEAM_ID=... APPLE_APP_PASSWORD=... packaging/macos/notarize.sh dist/enlighten-desktop.dmg
#
# APPLE_APP_PASSWORD is an app-specific password of the Apple ID. Without a signing identity or these
# credentials it says so and exits 0 (an unsigned image cannot be notarised).
set -euo pipefail
dmg=$1
if [[ -z "${MACOS_SIGN_IDENTITY:-}" || -z "${APPLE_ID:-}" || -z "${APPLE_TEAM_ID:-}" || -z "${APPLE_APP_PASSWORD:-}" ]]; then
    echo "Signing identity or notarisation credentials not set: notarisation skipped."
    exit 0
fi
xcrun notarytool submit "$dmg" --apple-id "$APPLE_ID" --team-id "$APPLE_TEAM_ID" \
    --password "$APPLE_APP_PASSWORD" --wait
xcrun stapler staple "$dmg"
spctl --assess --type open --context context:primary-signature --verbose=2 "$dmg"
echo "notarised and stapled: $dmg"
