"""Synthetic demo data reproducing the published evaluation figures (no real people)."""
