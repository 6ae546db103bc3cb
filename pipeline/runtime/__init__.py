"""What a running adtrack process keeps about itself: log format, metrics, live counts, timeline, tallies, GC."""
