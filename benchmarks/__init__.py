"""The benchmark script (benchmarks/run.py); a package so that the tests can import it."""
