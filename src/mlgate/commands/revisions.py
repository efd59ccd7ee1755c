"""Git revisions a release check compares: resolve a name, find the last tag, export a commit's tree."""

from __future__ import annotations

import io
import subprocess
import tarfile
from pathlib import Path

from mlgate.infra.errors import MlgateError


def git(where: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["git", *args], cwd=where, capture_output=True, timeout=120, check=False)


def resolve(where: Path, name: str) -> str | None:
    """The full commit hash ``name`` points at, or None when it names no commit."""
    result = git(where, "rev-parse", "--verify", "--quiet", f"{name}^{{commit}}")
    commit = result.stdout.decode().strip()
    return commit if result.returncode == 0 and commit else None


def is_dirty(where: Path) -> bool:
    """Uncommitted changes to tracked files (what asv, which measures commits, would not see)."""
    return bool(git(where, "status", "--porcelain", "--untracked-files=no").stdout.strip())


def last_tag(where: Path) -> str:
    """The newest tag before the candidate: HEAD's own tag is skipped on a clean tagged checkout."""
    start = "HEAD"
    if not is_dirty(where) and git(where, "tag", "--points-at", "HEAD").stdout.strip():
        start = "HEAD^"
    result = git(where, "describe", "--tags", "--abbrev=0", start)
    if result.returncode != 0:
        raise MlgateError(
            "BASELINE: no git tag to compare with here; name a BASELINE (a spec version or a git revision)"
        )
    return result.stdout.decode().strip()


def export_tree(where: Path, commit: str, out: Path) -> Path:
    """The tracked files of ``commit`` in ``out`` (git archive: the repo and its worktrees untouched)."""
    result = git(where, "archive", "--format=tar", commit)
    if result.returncode != 0:
        raise MlgateError(f"git archive {commit[:12]} failed: {result.stderr.decode().strip()}")
    out.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(result.stdout)) as archive:
        archive.extractall(out, filter="data")
    return out
