"""Subscription state: the subscriptions themselves (global), and what each was delivered.

- ``subscriptions``: name -> subscription, as on ``coredata.subscriptions``; every worker holds it.
- ``deliveries``: "<name>@<at>|<entity>:<id>" -> the last delivery for that key (``pipeline.domain.delivery``),
  so a snapshot and the live stream after it never deliver an older version after a newer one.
- ``delivered``: name -> number of notifications delivered; written (0) as soon as a subscription
  is registered, so its changelog also says which subscriptions are live.
"""

from __future__ import annotations

from config.topics import durability
from pipeline.app import app, settings
from pipeline.domain.subscriptions import DELIVERED_TABLE

# Their changelogs get min.insync.replicas like every topic adtrack creates (Faust gives them the replication).
CHANGELOG_CONFIG = durability(settings)
subscriptions = app.GlobalTable(
    "subscriptions", partitions=1, recovery_buffer_size=1, key_type=str, help="Subscriptions by name.", extra_topic_configs=CHANGELOG_CONFIG
)
deliveries = app.Table(
    "subscription-deliveries", partitions=1, key_type=str, help="Last delivery per key.", extra_topic_configs=CHANGELOG_CONFIG
)
delivered = app.Table(
    DELIVERED_TABLE, partitions=1, key_type=str, default=int, help="Deliveries per name.", extra_topic_configs=CHANGELOG_CONFIG
)


def delivery_key(name: str, at: int, entity: str, id_: str) -> str:
    # ``at`` tells a new subscription from an earlier one of the same name: it starts afresh.
    return f"{name}@{at}|{entity}:{id_}"
