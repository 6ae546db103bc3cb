"""The per-campaign tracking state: local RocksDB stores restored from a compacted changelog."""
