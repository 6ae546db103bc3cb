"""glibc's malloc, set for a worker that frees large blocks every batch.

glibc serves a block of ``MMAP_THRESHOLD`` (128 KiB) or more with its own mmap, and unmaps it when
it is freed. But freeing such a block also raises the threshold to the block's size (up to 32 MiB),
so from then on blocks of that size come from the heap arenas instead. A worker frees blocks of that
size all the time: fetched record batches, a state batch's changelog value (some 150 KiB for 2000
events), the producer's request buffers. Each raise lets more of them land in the arenas, between
small objects that stay, and the freed space there is seldom given back: the worker's RSS crept by
about 3 MiB a minute for the whole of a 10-minute soak, while its state did not grow.

``tune`` fixes the threshold at its default, which also turns the raising off, and caps the arenas at
two (glibc makes up to eight per core as threads contend, each keeping its own free space). It runs
when the app module is imported, before any store opens or thread starts. Settings given in the
environment (``MALLOC_MMAP_THRESHOLD_``, ``MALLOC_ARENA_MAX``, read by glibc itself) win. On a C
library other than glibc it does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import platform

MMAP_THRESHOLD = 128 * 1024
ARENA_MAX = 2

# mallopt(3) parameters, from glibc's malloc.h
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8


def tune() -> list[str]:
    """Fix the mmap threshold and cap the arenas; returns the settings applied (none off glibc)."""
    if platform.libc_ver()[0] != "glibc":
        return []
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    applied = []
    for variable, parameter, value in (("MALLOC_MMAP_THRESHOLD_", M_MMAP_THRESHOLD, MMAP_THRESHOLD),
                                       ("MALLOC_ARENA_MAX", M_ARENA_MAX, ARENA_MAX)):
        if variable not in os.environ and libc.mallopt(parameter, value) == 1:
            applied.append(f"{variable}={value}")
    return applied
