"""Thin asv benchmark files that ``mlgate init`` copies into a repo's benchmarks/."""
