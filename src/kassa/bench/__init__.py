"""Benchmarks run by ``kassa bench``: load generators and same-run baselines."""
