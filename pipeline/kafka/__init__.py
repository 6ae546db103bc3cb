"""Kafka infrastructure: partitioning, the tracking consumer group's assignor."""
