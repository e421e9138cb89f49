#!/usr/bin/env bash
# Build the Linux app from a clean checkout: onedir bundle, its selftest, a tarball (and an AppImage when
# appimagetool is on PATH).
#
#   packaging/linux/build.sh            # makes build/venv-linux (Python 3.10+ and PyPI needed), then builds
#   PYTHON=.venv/bin/python packaging/linux/build.sh   # use an existing environment instead
#
# Output in dist/: enlighten-desktop/ (the app; run ./enlighten-desktop), enlighten-desktop-VERSION-linux-
# ARCH.tar.gz, and enlighten-desktop-VERSION-ARCH.AppImage when appimagetool is available. The selftest runs
# on the frozen app with the shipped model; SELFTEST_ARGS="--model F --reference D" points it elsewhere,
# SELFTEST_ARGS=skip skips it (a build without the shipped model).
set -euo pipefail
cd "$(dirname "$0")/../.."

if [[ -z "${PYTHON:-}" ]]; then
    venv=build/venv-linux
    if [[ ! -x $venv/bin/python ]]; then
        python3 -m venv "$venv"
        "$venv/bin/pip" install --upgrade pip
        "$venv/bin/pip" install -e ".[packaging]"
    fi
    PYTHON=$venv/bin/python
fi
version=$("$PYTHON" -c "import enlighten_desktop; print(enlighten_desktop.__version__)")
arch=$(uname -m)

start=$(date +%s)
"$PYTHON" -m PyInstaller --noconfirm --clean --distpath dist --workpath build/pyinstaller \
    packaging/enlighten_desktop.spec
app=dist/enlighten-desktop
install -m 644 packaging/linux/enlighten-desktop.desktop "$app/enlighten-desktop.desktop"
install -m 644 resources/icons/enlighten.svg "$app/enlighten-desktop.svg"
echo "built $app in $(( $(date +%s) - start )) s, $(du -sh "$app" | cut -f1)"

if [[ "${SELFTEST_ARGS:-}" != skip ]]; then
    # shellcheck disable=SC2086  # SELFTEST_ARGS is a list of words on purpose
    "$app/enlighten-desktop" selftest ${SELFTEST_ARGS:-}
fi

tarball=dist/enlighten-desktop-$version-linux-$arch.tar.gz
tar -C dist -czf "$tarball" enlighten-desktop
echo "tarball: $tarball ($(du -h "$tarball" | cut -f1))"

if command -v appimagetool > /dev/null; then
    appdir=build/AppDir
    rm -rf "$appdir" && mkdir -p "$appdir/usr/lib"
    cp -a "$app" "$appdir/usr/lib/enlighten-desktop"
    cp packaging/linux/enlighten-desktop.desktop resources/icons/enlighten.svg "$appdir/"
    mv "$appdir/enlighten.svg" "$appdir/enlighten-desktop.svg"
    install -m 755 packaging/linux/AppRun "$appdir/AppRun"
    ARCH=$arch appimagetool --no-appstream "$appdir" "dist/enlighten-desktop-$version-$arch.AppImage"
else
    echo "appimagetool not found: AppImage skipped (the tarball is the Linux artefact)"
fi
