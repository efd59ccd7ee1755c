"""Report and Finding types, and the renderers that turn a report into files and tables."""

from mlgate.report.model import Finding, Report, Status

__all__ = ["Finding", "Report", "Status"]
