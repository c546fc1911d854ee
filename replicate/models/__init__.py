"""Models. ``probes``: the two difficulty probes used to calibrate the synthetic data."""
