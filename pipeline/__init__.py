"""adtrack: a reactive ad-tracking stream pipeline on Kafka and Faust."""

__version__ = "0.1.0"
