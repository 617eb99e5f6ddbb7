"""Experiment definitions (TOML presets, A/B specs) and the harness that runs them."""
