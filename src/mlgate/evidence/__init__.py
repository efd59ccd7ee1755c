"""Readers of measured evidence: load-run folders and asv results."""
