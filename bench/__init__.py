"""Reproducible benchmarks: each bench/*.py script runs on its own and prints its figures."""
