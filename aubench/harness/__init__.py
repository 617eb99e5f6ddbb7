"""The workbench harness: profile, parity, A/B, gate, microbenchmarks."""
