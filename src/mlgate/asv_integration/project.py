"""How an asv environment holds a user's repo at one commit, packaged or not (``mlgate init``'s asv.conf).

asv checks the commit out, runs the build command once per commit (its result is cached per commit)
and the install command each time it switches commits. Here "build" copies the checkout into the
commit's build cache and "install" puts that copy (and its ``src/``) on the environment's path with a
.pth file: the spec imports as it was at that commit, with no build backend and no network needed.
"""

from __future__ import annotations

import shutil
import sys
import sysconfig
from pathlib import Path

PTH_FILE = "mlgate-project.pth"
TREE = "tree"
SKIPPED = (".git", ".asv", ".venv", "results")


def build(checkout: Path, cache_dir: Path) -> None:
    """Copy the commit's checkout into its build cache."""
    shutil.copytree(checkout, cache_dir / TREE, ignore=shutil.ignore_patterns(*SKIPPED), dirs_exist_ok=True)


def install(cache_dir: Path) -> None:
    """Put the cached copy on this environment's import path."""
    tree = (cache_dir / TREE).resolve()
    if not tree.is_dir():
        raise SystemExit(f"mlgate: {tree} is missing; delete the asv environment (.asv/env) and run again")
    lines = [str(tree / "src")] if (tree / "src").is_dir() else []
    (_site() / PTH_FILE).write_text("\n".join([*lines, str(tree)]) + "\n", encoding="utf-8")


def uninstall() -> None:
    (_site() / PTH_FILE).unlink(missing_ok=True)


def _site() -> Path:
    return Path(sysconfig.get_paths()["purelib"])


def main(argv: list[str]) -> None:
    command, *paths = argv
    if command == "build" and len(paths) == 2:
        build(Path(paths[0]), Path(paths[1]))
    elif command == "install" and len(paths) == 1:
        install(Path(paths[0]))
    elif command == "uninstall" and not paths:
        uninstall()
    else:
        raise SystemExit(
            "usage: python -m mlgate.asv_integration.project build CHECKOUT CACHE | install CACHE | uninstall"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
