"""Benchmarks: figures printed side by side and written to bench/results/, never timed tests."""
