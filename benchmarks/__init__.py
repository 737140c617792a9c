"""Benchmarks and quality measurements; each writes its figures to benchmarks/RESULTS.md."""
