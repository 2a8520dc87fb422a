"""Benchmarks with ratios: every figure beside a reference measured in the same run.

Run them all with `make bench` (a throwaway PostgreSQL server, then
`python -m benchmarks`); see benchmarks/README.md and benchmarks/results.md.
"""
