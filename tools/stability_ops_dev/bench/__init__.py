"""Benchmarks of the stability.ops collection; run them with stability-ops-bench (python -m stability_ops_dev.bench)."""
