"""How a back-office command refuses: one ``error:`` line on stderr and exit status 1.

(An error of the command line itself, a setting or a bad argument, is status 2: ``pipeline.cli.main``.)
"""

from __future__ import annotations

import sys


def refuse(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 1
