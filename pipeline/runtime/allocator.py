"""Freed memory given back to the system: glibc's ``malloc_trim``, every ``RELEASE_EVERY_S``.

A worker allocates and frees large blocks all the time: fetched record batches, a state batch's
changelog value (some 150 KiB for 2000 events), the producer's request buffers. glibc keeps freed
memory inside its heaps for reuse and gives back only what lies at the top of a heap; the rest stays
resident between the small objects that live on. So the worker's RSS crept by 3 to 4 MiB a minute for
the whole of a 10-minute soak while its state did not grow. ``malloc_trim(0)`` hands the whole pages
of every free block back (madvise), in every arena: what is resident then is what is in use.

Serving large blocks with their own mmap instead (a fixed ``M_MMAP_THRESHOLD``) also stopped the
creep, but every such block then comes as fresh zeroed pages: 14 times the cost of a 900 KB copy, and
10 to 20 % more CPU an event for the worker. A trim costs about 5 ms when there is little to give
back, 40 ms to give back 200 MiB freed in 10 000 pieces; every 10 s, that is well under 1 % of a core.

On a C library other than glibc ``release`` does nothing.
(docs/decisions/0007-freed-memory-is-given-back-on-a-timer.md)
"""

from __future__ import annotations

import ctypes
import ctypes.util
import platform

#: How often the worker gives freed memory back.
RELEASE_EVERY_S = 10.0


def _malloc_trim() -> ctypes._CFuncPtr | None:  # type: ignore[name-defined]
    if platform.libc_ver()[0] != "glibc":
        return None
    trim = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim


_TRIM = _malloc_trim()


def release() -> bool:
    """Give the whole pages of freed memory back to the system; whether any was given back."""
    return bool(_TRIM(0)) if _TRIM is not None else False
