#!/usr/bin/env bash
# Start the frozen app's GUI under a virtual X server (xvfb-run), take a screenshot of the screen, close it.
#
#   packaging/linux/smoke_gui.sh APP_DIR OUT.png [PHOTO...]
#
# APP_DIR is the onedir bundle (dist/enlighten-desktop). MODEL=FILE makes the app use that model (through
# its settings) instead of the shipped one; WAIT=seconds before the screenshot (default 20). Settings and
# queue live in a temporary HOME, so the user's own are never touched. PYTHON (default .venv/bin/python)
# must have Pillow, which grabs the X screen. Fails when the app exits before the screenshot.
set -euo pipefail
app_dir=$(cd "$1" && pwd); out=$2; shift 2
python=${PYTHON:-.venv/bin/python}
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
if [[ -n "${MODEL:-}" ]]; then
    mkdir -p "$home/.config/Enlighten"
    printf '[model]\npath=%s\n' "$(realpath "$MODEL")" > "$home/.config/Enlighten/Enlighten Desktop.conf"
fi
export HOME=$home XDG_CONFIG_HOME=$home/.config XDG_DATA_HOME=$home/.local/share XDG_CACHE_HOME=$home/.cache
export SHOT_APP="$app_dir/enlighten-desktop" SHOT_OUT=$out SHOT_PYTHON=$python SHOT_WAIT=${WAIT:-20}
unset QT_QPA_PLATFORM
xvfb-run -a -s "-screen 0 1440x900x24" bash -c '
    "$SHOT_APP" "$@" > "$HOME/app.log" 2>&1 &
    pid=$!
    sleep "$SHOT_WAIT"
    if ! kill -0 "$pid" 2>/dev/null; then cat "$HOME/app.log"; echo "the app exited early" >&2; exit 1; fi
    "$SHOT_PYTHON" -c "import os, sys; from PIL import ImageGrab; ImageGrab.grab(xdisplay=os.environ[\"DISPLAY\"]).save(sys.argv[1])" "$SHOT_OUT"
    kill -INT "$pid"  # the app closes its window properly on SIGINT
    wait "$pid" || true
    cat "$HOME/app.log"
' smoke "$@"
echo "screenshot: $out"
