"""Help and usage errors answer before the heavy libraries load (scikit-learn alone takes ~2 s to import)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("sklearn", "pandas", "fastapi", "locust", "scipy")
PROBE = """
import json, sys
from mlgate.cli import main
code = main(sys.argv[1:])
print(json.dumps({"code": code, "heavy": sorted(m for m in %r if m in sys.modules)}))
"""


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["check", "--help"],
        ["check", "--plan", "nope"],
        ["check", "--load-design", "nope"],
        ["check", "--skip", "nope"],
        ["check", "--confirm-budget", "soon"],
        ["load", "--nope"],
        ["compare"],
        ["serve"],
    ],
    ids=lambda args: " ".join(args),
)
def test_help_and_usage_errors_import_no_heavy_library(args: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE % (HEAVY,), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer["code"] in (0, 2), result.stderr
    assert answer["heavy"] == [], f"mlgate {' '.join(args)} imported {answer['heavy']}"
