"""Table recovery that seeks the stream partitions before it lets them fetch.

After the tables are restored, the stream partitions are seeked to their committed offsets while
still paused; resuming them, flow control and the consumer follow with no await in between, so
nothing is fetched at a stale position or dropped from a buffer. Why Faust's own order skips events:
docs/decisions/0003-seek-before-resume-after-recovery.md.
"""

from __future__ import annotations

import asyncio
from typing import Any, cast

from faust import tables
from faust.tables.recovery import Recovery as FaustRecovery


class Recovery(FaustRecovery):
    async def _resume_streams(self, generation_id: int = 0) -> None:
        await self.app.on_rebalance_complete.send()
        if self.app.consumer_generation_id != generation_id:
            self.log.warning("Recovery rebalancing again")
            return
        await self._hand_streams_back(standbys_ready=True)

    async def on_recovery_completed(self, generation_id: int = 0) -> None:
        self.log.info("Restore complete!")
        await self.app.on_rebalance_complete.send()
        self._set_recovery_ended()
        callbacks = [
            asyncio.ensure_future(
                table.on_recovery_completed(self.actives_for_table[table], self.standbys_for_table[table])
            )
            for table in self.tables.values()
        ]
        if callbacks:
            await asyncio.wait(callbacks)
        if self.app.consumer_generation_id != generation_id:
            self.log.warning(f"Recovery rebalancing again: generation {self.app.consumer_generation_id}, not {generation_id}")
            return
        await self._hand_streams_back(standbys_ready=not self.app.assignor.assigned_standbys())

    async def _hand_streams_back(self, standbys_ready: bool) -> None:
        """Seek the paused stream partitions to their committed offsets, let everything flow, report ready."""
        consumer = self.app.consumer
        streams = {tp for tp in consumer.assignment() if not self._is_changelog_tp(tp)}
        if streams:
            self.log.info("Seek stream partitions to committed offsets.")
            await self._wait(consumer.perform_seek(), timeout=self.app.conf.broker_request_timeout)
        # No await from here to the fetcher's restart: nothing is fetched before the seek took effect.
        consumer.resume_partitions(streams)
        self.completed.set()
        self.log.info("Resuming flow...")
        self.app.flow_control.resume()
        consumer.resume_flow()
        await cast(Any, self.app)._fetcher.maybe_start()
        self.tables.on_actives_ready()
        if standbys_ready:
            self.tables.on_standbys_ready()
        self.app.on_rebalance_end()
        self.log.info("Worker ready")


class TableManager(tables.TableManager):
    @property
    def recovery(self) -> Recovery:
        if self._recovery is None:
            self._recovery = Recovery(self.app, self, beacon=self.beacon, loop=self.loop)
        return cast(Recovery, self._recovery)
