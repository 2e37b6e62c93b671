"""make bench: the figures of bench/README.md, run as `python -m bench.run` from the checkout."""
