"""The oracle stream the scenarios use (it lives with the soak mode in ``pipeline.sim.oracle_stream``)."""

from pipeline.sim.oracle_stream import Stream

__all__ = ["Stream"]
