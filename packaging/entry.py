"""The frozen app's entry script: the same ``main`` as ``python -m enlighten_desktop``.

PyInstaller needs a script file; running the package's ``__main__.py`` as that script would put the package
folder itself on ``sys.path``. ``main`` calls ``multiprocessing.freeze_support()`` first.
"""

import sys

from enlighten_desktop.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
