"""Changelog-backed state: core data (global) and per-campaign tracking state."""
