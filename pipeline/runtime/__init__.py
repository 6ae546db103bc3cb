"""What a running adtrack process keeps about itself: log format, metrics, counts, timeline, tallies, GC, malloc."""
