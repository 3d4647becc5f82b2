"""Benchmarks that print figures: ``make bench`` (``python -m bench``)."""
