"""Simulation and measurement: test traffic, the oracle, worker processes, the demo, soak and bench.

They talk Kafka and HTTP like any client of adtrack: never the agents, the tables or the Faust app.
"""
