"""Benchmarks and the synthetic-webinar generator (`benchmarks.synth`); not shipped in the wheel."""
