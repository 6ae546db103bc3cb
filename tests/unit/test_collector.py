"""The worker's garbage-collector settings: fewer young collections, start-up left out of full ones."""

from __future__ import annotations

import gc

from pipeline.runtime import collector


def test_tune_raises_only_the_young_threshold() -> None:
    before = gc.get_threshold()
    try:
        collector.tune()
        assert gc.get_threshold() == (collector.YOUNG_THRESHOLD, before[1], before[2])
    finally:
        gc.set_threshold(*before)


def test_settle_freezes_what_exists_so_later_collections_skip_it() -> None:
    kept = [[n] for n in range(1000)]  # containers the collector tracks
    try:
        collector.settle()
        assert gc.get_freeze_count() >= len(kept)
    finally:
        gc.unfreeze()
