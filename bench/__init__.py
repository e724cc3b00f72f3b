"""Benchmarks measured against the bars in DESIGN.md ("Bars everything is measured against")."""
