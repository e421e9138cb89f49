"""`python run_lua.py VERSION SCRIPT ARGS...` runs SCRIPT as the stand-alone `lua` interpreter would,
with `arg` set, on the reference Lua bundled in the lupa wheel (5.1 as in Lightroom Classic, 5.4 as in
darktable).

The editor plug-in tests run their stand-in hosts this way so that they need no system Lua package.
"""

from __future__ import annotations

import importlib
import sys


def main() -> int:
    version, script, *args = sys.argv[1:]
    runtime = importlib.import_module(f"lupa.lua{version.replace('.', '')}").LuaRuntime()
    runtime.globals().arg = runtime.table_from({0: script, **{i: a for i, a in enumerate(args, start=1)}})
    try:
        runtime.execute("dofile(...)", script)
    except Exception as error:  # lupa.LuaError carries the Lua traceback, as `lua` prints it
        sys.stderr.write(f"lua: {error}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
