"""Kafka infrastructure: topic admin, confirmed offsets, clients, partitioning, Faust's transport and recovery, the embedded broker."""
