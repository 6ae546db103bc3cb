"""The worker's malloc settings: large blocks keep coming from mmap after a larger one was freed.

Each case runs in a fresh interpreter, since malloc's settings are the whole process's.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import textwrap

import pytest

from pipeline.runtime import allocator

pytestmark = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt settings are glibc's")

# Frees a 4 MiB block (a fetch buffer's size), then counts how many of ten 200 KiB blocks (a state
# batch's size) malloc serves with their own mmap, by mallinfo2's count of such blocks.
MEASURE = textwrap.dedent("""
    import ctypes, sys

    if sys.argv[1] == "tune":
        from pipeline.runtime import allocator
        print(",".join(allocator.tune()))
    elif sys.argv[1] == "app":
        import pipeline.app
        print(",".join(pipeline.app.MALLOC_SETTINGS))
    else:
        print("")

    class Info(ctypes.Structure):
        _fields_ = [(name, ctypes.c_size_t) for name in (
            "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks",
            "keepcost")]

    libc = ctypes.CDLL("libc.so.6")
    libc.mallinfo2.restype = Info
    large = bytearray(4 << 20)
    del large
    before = libc.mallinfo2().hblks
    blocks = [bytearray(200_000) for _ in range(10)]
    print(libc.mallinfo2().hblks - before)
""")


def measure(mode: str, **env: str) -> tuple[str, int]:
    environment = {name: value for name, value in os.environ.items() if not name.startswith("MALLOC_")}
    done = subprocess.run([sys.executable, "-c", MEASURE, mode], env=environment | env, capture_output=True,
                          text=True, timeout=60, check=True)
    applied, mapped = done.stdout.splitlines()[-2:]
    return applied, int(mapped)


def test_untuned_malloc_serves_blocks_from_the_heap_once_a_larger_one_was_freed() -> None:
    # The behaviour tune() exists for: glibc raised its threshold to 4 MiB when the large block was freed.
    assert measure("plain") == ("", 0)


def test_tuned_malloc_keeps_serving_blocks_over_the_threshold_with_their_own_mmap() -> None:
    assert measure("tune") == (f"MALLOC_MMAP_THRESHOLD_={allocator.MMAP_THRESHOLD},"
                               f"MALLOC_ARENA_MAX={allocator.ARENA_MAX}", 10)


def test_the_worker_app_tunes_malloc_when_it_is_imported() -> None:
    applied, mapped = measure("app")
    assert applied.split(",") == [f"MALLOC_MMAP_THRESHOLD_={allocator.MMAP_THRESHOLD}",
                                  f"MALLOC_ARENA_MAX={allocator.ARENA_MAX}"]
    assert mapped == 10


def test_a_setting_given_in_the_environment_wins() -> None:
    # glibc read this threshold at start-up (1 MiB): tune() leaves it, so 200 KiB blocks come from the heap.
    assert measure("tune", MALLOC_MMAP_THRESHOLD_=str(1 << 20)) == (f"MALLOC_ARENA_MAX={allocator.ARENA_MAX}", 0)
