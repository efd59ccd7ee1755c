"""Checks: one module per kind of evidence; each returns Findings and never prints."""
