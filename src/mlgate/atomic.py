"""Atomic writes: build in a temporary sibling, then rename, so readers never see half a result."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from mlgate.errors import MlgateError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    write_with(path, lambda tmp: tmp.write_bytes(data))


def write_text(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    write_bytes(path, text.encode("utf-8"))


def write_with(path: Path, writer: Callable[[Path], object]) -> None:
    """Let ``writer`` fill a temporary file next to ``path``, then move it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        writer(tmp)
        # mkstemp makes 0600 files; results are meant to be read like any other file.
        tmp.chmod(0o666 & ~_umask())
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


@contextmanager
def new_directory(path: Path, force: bool = False, flag: str = "--out") -> Iterator[Path]:
    """Yield a temporary folder that becomes ``path`` only if the block finishes.

    An existing ``path`` is an error unless ``force``; then it is replaced only after the new
    content is complete, so a failure never loses the earlier result.
    """
    if path.exists() and not force:
        raise MlgateError(
            f"{flag}: {path} already exists; choose another folder or pass --force to replace it"
        )
    if path.exists() and not path.is_dir():
        raise MlgateError(f"{flag}: {path} is a file, not a folder; choose a folder path")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    try:
        yield tmp
        tmp.chmod(0o777 & ~_umask())
        if path.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".old", dir=path.parent))
            path.replace(old / path.name)
            tmp.replace(path)
            shutil.rmtree(old)
        else:
            tmp.replace(path)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
