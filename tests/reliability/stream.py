"""The oracle stream the scenarios use (it lives with the soak mode in ``pipeline.oracle_stream``)."""

from pipeline.oracle_stream import Stream

__all__ = ["Stream"]
