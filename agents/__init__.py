"""Faust agents: thin glue between topics, tables and the pure logic in ``pipeline``."""
