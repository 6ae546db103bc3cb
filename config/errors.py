"""The errors of the bottom layer: the root of adtrack's error tree and the one error of settings.

The rest of the tree is in ``pipeline.domain.errors``, which re-exports both, so ``except AdtrackError``
anywhere also catches a setting that cannot be used.
"""

from __future__ import annotations


class AdtrackError(Exception):
    """Base of every error adtrack raises on purpose."""


class ConfigError(AdtrackError):
    """A setting has a value that cannot be used. Fix the environment variable named in the message."""
