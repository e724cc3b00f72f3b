"""Benchmarks measured against the product's performance bars (listed in bench/README.md)."""
