"""Atomic writes: build in a temporary sibling, then rename, so readers never see half a result."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from mlgate.infra import interrupts
from mlgate.infra.errors import MlgateError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_bytes(path: Path, data: bytes, flag: str = "--out") -> None:
    """Write ``data`` to ``path`` atomically."""
    write_with(path, lambda tmp: tmp.write_bytes(data), flag)


def write_text(path: Path, text: str, flag: str = "--out") -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    write_bytes(path, text.encode("utf-8"), flag)


def check_path(path: Path, flag: str) -> Path:
    """``path``, unless the system cannot even look it up (a name too long, a symlink loop): then an
    error naming ``flag``. Missing is fine here; whoever reads or writes it says what is missing."""
    try:
        path.stat()
    except (FileNotFoundError, NotADirectoryError):
        pass
    except OSError as exc:
        raise MlgateError(f"{flag}: cannot use the path {path} ({exc.strerror}); give a usable path") from exc
    return path


def check_writable(path: Path, flag: str = "--out") -> None:
    """Fail early, naming ``flag``, when ``path`` cannot be created: a file or a read-only folder
    stands in the way. Called before slow work, so the error comes before the wait."""
    check_path(path, flag)
    ancestor = path.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise MlgateError(f"{flag}: {ancestor} is a file, so {path} cannot be written; choose a folder path")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise MlgateError(f"{flag}: cannot write in {ancestor} (permission denied); choose a writable folder")


def write_with(path: Path, writer: Callable[[Path], object], flag: str = "--out") -> None:
    """Let ``writer`` fill a temporary file next to ``path``, then move it into place."""
    created = _make_parents(path, flag)
    done = False
    tmp: Path | None = None
    try:
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
        tmp = Path(name)
        writer(tmp)
        # mkstemp makes 0600 files; results are meant to be read like any other file.
        tmp.chmod(0o666 & ~_umask())
        with interrupts.deferred():
            tmp.replace(path)
            done = True
    except OSError as exc:
        raise _cannot_write(path, exc, flag) from exc
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
        if not done:
            _remove_empty(created)


@contextmanager
def new_directory(
    path: Path, force: bool = False, flag: str = "--out", replaceable: bool = True, keep: str = ""
) -> Iterator[Path]:
    """Yield a temporary folder that becomes ``path`` only if the block finishes.

    An existing ``path`` is an error unless ``force``; then it is replaced only after the new
    content is complete, so a failure never loses the earlier result. ``replaceable`` says whether
    the command has a --force to offer in that error; ``keep`` is what an interrupt after the
    commit says was kept (see mlgate.infra.interrupts).
    """
    if path.exists() and not path.is_dir():
        raise MlgateError(f"{flag}: {path} is a file, not a folder; choose a folder path")
    if path.exists() and not force:
        fix = " or pass --force to replace it" if replaceable else ""
        raise MlgateError(f"{flag}: {path} already exists; choose another folder{fix}")
    created = _make_parents(path, flag)
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    except OSError as exc:
        _remove_empty(created)
        raise _cannot_write(path, exc, flag) from exc
    done = False
    try:
        yield tmp
        # A signal must not fall between moving the old result aside and the new one in.
        with interrupts.deferred():
            try:
                tmp.chmod(0o777 & ~_umask())
                if path.exists():
                    _swap(tmp, path)
                else:
                    tmp.replace(path)
            except OSError as exc:
                raise _cannot_write(path, exc, flag) from exc
            done = True
            if keep:
                interrupts.keep(keep)
    finally:
        with interrupts.deferred():
            if tmp.exists():
                shutil.rmtree(tmp)
            if not done:
                _remove_empty(created)


def _swap(new: Path, path: Path) -> None:
    """Put the folder ``new`` in place of the folder ``path``; if that fails, ``path`` stays as it was."""
    old = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".old", dir=path.parent))
    try:
        path.replace(old / path.name)
    except OSError:
        old.rmdir()
        raise
    try:
        new.replace(path)
    except OSError:
        (old / path.name).replace(path)  # should this fail too, the earlier result waits in ``old``
        old.rmdir()
        raise
    shutil.rmtree(old)


def _make_parents(path: Path, flag: str) -> list[Path]:
    """Create the missing folders above ``path``; return them, deepest first, to undo on failure."""
    check_writable(path, flag)
    missing = []
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        _remove_empty(missing)
        raise _cannot_write(path, exc, flag) from exc
    return missing


def _remove_empty(folders: list[Path]) -> None:
    """Undo ``_make_parents``: a failed write leaves the working folder as it was."""
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:
            return  # not empty (someone else wrote there) or already gone: leave it


def _cannot_write(path: Path, exc: OSError, flag: str) -> MlgateError:
    reason = exc.strerror or type(exc).__name__
    return MlgateError(f"{flag}: cannot write {path} ({reason}); choose a folder you can write to")
