"""Helpers shared by the suites that run against the lab (tests/cluster_smoke, tests/integration,
molecule scenarios' verify suites, the benchmark): one copy of each."""
