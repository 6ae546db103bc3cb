"""Descriptions: typed settings, topic definitions, sample core data."""
