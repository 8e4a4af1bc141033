"""Benchmarks (not run in CI): `make bench` runs them all and prints each figure with its target."""
