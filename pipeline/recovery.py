"""Table recovery that seeks the stream partitions before it lets them fetch.

After a rebalance Faust pauses every assigned partition, restores the tables, then hands the
stream partitions (``tracking.raw`` and friends) back to the agents. faust-streaming 0.15.3
resumes them first and only then awaits ``consumer.perform_seek()``; the fetcher runs during
that await. Records fetched in the window move the consumer's read offset ahead, are dropped
from the stream buffers when flow control resumes (resume clears them), and the records read
after the seek then look like a gap that has been processed: the commit jumps over events no
agent ever saw. Seen as a handful of consecutive events missing after a worker joined, left or
came back with an empty data dir, or as a partition whose commits never advance again.

Here the seek happens while the partitions are still paused, and resuming them, resuming flow
control and resuming the consumer follow with no await in between, so nothing can be fetched
at a stale position or dropped from a buffer.
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
