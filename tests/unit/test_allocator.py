"""The worker gives freed memory back: RSS falls to what is in use after ``allocator.release``.

Each case runs in a fresh interpreter, so that its RSS is its own.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc_trim is glibc's")

# 200 MiB in blocks of 20 KiB (glibc's heap, not Python's small-object arenas, not mmap), each followed
# by a small block that stays: once the large ones are freed, no heap top is free to shrink. Prints
# the RSS (MiB) while they are allocated, after they are freed, and after the release if asked.
FRAGMENTS = textwrap.dedent("""
    import sys

    def rss():
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * 4096 / (1 << 20)

    large, kept = [], []
    for _ in range(10_000):
        large.append(bytearray(20_000))
        kept.append(bytearray(1_000))
    print(round(rss()))
    del large
    print(round(rss()))
    if sys.argv[1] == "release":
        from pipeline.runtime import allocator
        print(allocator.release())
        print(round(rss()))
""")


def run(mode: str) -> list[str]:
    done = subprocess.run([sys.executable, "-c", FRAGMENTS, mode], env=dict(os.environ), capture_output=True,
                          text=True, timeout=60, check=True)
    return done.stdout.split()


def test_freed_blocks_between_blocks_in_use_stay_resident() -> None:
    # What release() is for: free() alone gives back nothing of the 200 MiB.
    allocated, freed = map(int, run("keep"))
    assert allocated > 200
    assert freed > allocated - 20


def test_release_gives_the_pages_of_freed_blocks_back() -> None:
    allocated, freed, released, after = run("release")
    assert int(freed) > int(allocated) - 20
    assert released == "True"
    assert int(after) < int(allocated) - 150  # what is left: the 10 MiB kept, the interpreter, partial pages

