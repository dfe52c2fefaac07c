"""Benchmarks of the stability.ops collection; run them with bench/run.py."""
