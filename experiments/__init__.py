"""Research scripts (``python -m experiments.NAME``), A/B specs and RESULTS.md: one-off studies that import
the aubench package (its harness: ``aubench.harness``); nothing in the package imports them. Not installed."""
