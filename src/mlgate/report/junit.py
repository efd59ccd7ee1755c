"""Report as JUnit XML: one testcase per check; fail -> failure, error -> error, skip -> skipped."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from mlgate.report.model import Report


def junit_xml(report: Report) -> str:
    counts = report.counts()
    suite = ET.Element(
        "testsuite",
        name=f"mlgate {report.candidate} vs {report.baseline}",
        tests=str(len(report.checks)),
        failures=str(counts["fail"]),
        errors=str(counts["error"]),
        skipped=str(counts["skip"]),
        time=str(report.meta.get("seconds", 0)),
        timestamp=str(report.meta.get("created", "")),
    )
    for finding in report.checks:
        case = ET.SubElement(suite, "testcase", classname=f"mlgate.{finding.kind}", name=finding.name)
        if finding.status == "fail":
            ET.SubElement(case, "failure", message=finding.message, type="regression").text = finding.message
        elif finding.status == "error":
            ET.SubElement(case, "error", message=finding.message, type="input").text = finding.message
        elif finding.status == "skip":
            ET.SubElement(case, "skipped", message=finding.message)
        else:
            ET.SubElement(case, "system-out").text = f"{finding.status}: {finding.message}"
    suites = ET.Element("testsuites")
    suites.append(suite)
    ET.indent(suites)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
