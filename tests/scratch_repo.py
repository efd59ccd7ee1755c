"""A user's git repo for the adoption tests: the digits model of scratch/digits_spec.py, committed."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

SPEC = "digits_model.spec:spec"
HERE = Path(__file__).parent


def make_repo(root: Path) -> Path:
    """A user's git repo holding one model spec, committed."""
    (root / "digits_model").mkdir(parents=True)
    (root / "digits_model" / "__init__.py").write_text("")
    shutil.copy(HERE / "scratch" / "digits_spec.py", root / "digits_model" / "spec.py")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "digits model")
    return root


def git(root: Path, *args: str) -> str:
    identity = ["-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    return subprocess.run(
        ["git", *identity, *args], cwd=root, check=True, capture_output=True, text=True
    ).stdout.strip()


def mlgate(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mlgate", *args], cwd=root, capture_output=True, text=True, check=False
    )
