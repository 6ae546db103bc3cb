"""Core data as it stands after every update of an export: what test traffic may refer to.

Updates are folded with the version rules of the core-data agent (``pipeline.domain.coredata.apply``),
so the highest version of an entity wins and a delete removes it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

from pipeline.domain.coredata import ENTITIES, apply, live_data, parse_update

Data = dict[str, Any]  # a JSON object: a core-data update, or the data it stores
Placement = tuple[str, str]  # (publisher_id, slot_id)


@dataclasses.dataclass(frozen=True)
class Snapshot:
    campaigns: dict[str, Data]
    publishers: dict[str, Data]
    slots: dict[str, Data]
    budgets: dict[str, Data]
    # campaign_id -> where its ads may run: slots of active publishers the campaign allows
    placements: dict[str, list[Placement]]

    @classmethod
    def from_updates(cls, updates: Iterable[Data]) -> Snapshot:
        stored: dict[str, dict[str, Data]] = {entity: {} for entity in ENTITIES}
        for raw in updates:
            update = parse_update(raw)
            table = stored[update.entity]
            new = apply(table.get(update.id), update, now_ms=0)
            if new is not None:
                table[update.id] = new
        live = {
            entity: {id_: data for id_, entry in table.items() if (data := live_data(entry)) is not None}
            for entity, table in stored.items()
        }
        campaigns, publishers, slots = live["campaign"], live["publisher"], live["slot"]
        placements = {
            campaign_id: [
                (slot["publisher_id"], slot_id)
                for slot_id, slot in slots.items()
                if publishers.get(slot["publisher_id"], {}).get("status") == "active"
                and (campaign["publishers"] is None or slot["publisher_id"] in campaign["publishers"])
            ]
            for campaign_id, campaign in campaigns.items()
        }
        return cls(campaigns, publishers, slots, live["budget"], placements)

    def in_flight(self, campaign_id: str, ts: int) -> bool:
        """True when the campaign is active and ``ts`` is inside its flight (the rules' campaign checks)."""
        campaign = self.campaigns.get(campaign_id)
        if campaign is None or campaign["status"] != "active":
            return False
        end_ts = campaign["end_ts"]
        return campaign["start_ts"] <= ts and (end_ts is None or ts < end_ts)

    def billable(self, ts: int) -> list[str]:
        """Campaigns an event at ``ts`` can be accepted for: in flight, with somewhere to run."""
        return [c for c in self.campaigns if self.placements[c] and self.in_flight(c, ts)]

    def domain(self, publisher_id: str) -> str:
        publisher = self.publishers.get(publisher_id)
        return publisher["domain"] if publisher is not None else f"{publisher_id}.example"
