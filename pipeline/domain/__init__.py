"""Pure domain logic: no Faust or Kafka import."""
