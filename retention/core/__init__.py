"""The pure retention math: labels, features, the calibrated model and its evaluation (no Django)."""
