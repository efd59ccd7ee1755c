"""Make asv's published HTML work offline: fetch its CDN scripts from the npm registry, point to them.

asv 0.6 pages load jQuery, flot, bootstrap and friends from public CDNs, so on a machine without
internet the graphs page only shows "Can not determine continental origin of swallow". The same
files are npm packages; ``python -m mlgate.asv_integration.html results/html`` packs them with ``npm pack``
(cached under .asv/npm), copies them into ``results/html/vendor/`` and rewrites the pages.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

from mlgate.infra.errors import MlgateError

# CDN URL -> (npm package, file inside the package)
ASSETS = {
    "https://code.jquery.com/jquery-3.3.1.min.js": ("jquery@3.3.1", "dist/jquery.min.js"),
    "https://cdnjs.cloudflare.com/ajax/libs/flot/0.8.3/jquery.flot.min.js": ("flot@0.8.3", "jquery.flot.js"),
    "https://cdnjs.cloudflare.com/ajax/libs/flot/0.8.3/jquery.flot.time.min.js": (
        "flot@0.8.3",
        "jquery.flot.time.js",
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/flot/0.8.3/jquery.flot.selection.min.js": (
        "flot@0.8.3",
        "jquery.flot.selection.js",
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/flot/0.8.3/jquery.flot.categories.min.js": (
        "flot@0.8.3",
        "jquery.flot.categories.js",
    ),
    "https://cdn.jsdelivr.net/npm/flot-orderbars@1.0.0/js/jquery.flot.orderBars.js": (
        "flot-orderbars@1.0.0",
        "js/jquery.flot.orderBars.js",
    ),
    # stupidtable 1.0.1 is not on npm; 1.1.3 keeps the same API.
    "https://cdnjs.cloudflare.com/ajax/libs/stupidtable/1.0.1/stupidtable.min.js": (
        "stupid-table-plugin@1.1.3",
        "stupidtable.min.js",
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/blueimp-md5/2.19.0/js/md5.min.js": (
        "blueimp-md5@2.19.0",
        "js/md5.min.js",
    ),
    "https://cdn.jsdelivr.net/npm/bootstrap@3.1.1/dist/js/bootstrap.min.js": (
        "bootstrap@3.1.1",
        "dist/js/bootstrap.min.js",
    ),
    "https://cdn.jsdelivr.net/npm/bootstrap@3.1.1/dist/css/bootstrap.min.css": (
        "bootstrap@3.1.1",
        "dist/css/bootstrap.min.css",
    ),
}


def _tarball(package: str, cache: Path) -> Path:
    name, _, version = package.rpartition("@")
    found = cache / f"{name}-{version}.tgz"
    if not found.is_file():
        cache.mkdir(parents=True, exist_ok=True)
        npm = shutil.which("npm")
        if npm is None:
            raise MlgateError("npm is not installed; install Node.js/npm to make asv's pages work offline")
        result = subprocess.run(
            [npm, "pack", package, "--pack-destination", str(cache)],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if result.returncode != 0 or not found.is_file():
            raise MlgateError(f"npm pack {package} failed: {result.stderr.strip().splitlines()[-1:]}")
    return found


def vendor(html_dir: Path, cache: Path) -> int:
    """Copy every CDN asset the pages use into html_dir/vendor and rewrite the pages; count rewrites."""
    pages = sorted(html_dir.glob("*.html"))
    if not pages:
        raise MlgateError(f"{html_dir}: no HTML pages; run `asv publish` first")
    vendor_dir = html_dir / "vendor"
    vendor_dir.mkdir(exist_ok=True)
    rewrites = 0
    for url, (package, inner) in ASSETS.items():
        if not any(url in page.read_text(encoding="utf-8") for page in pages):
            continue
        target = vendor_dir / package.replace("@", "-") / inner
        if not target.is_file():
            with tarfile.open(_tarball(package, cache)) as archive:
                member = archive.extractfile(f"package/{inner}")
                if member is None:
                    raise MlgateError(f"{package} has no {inner}")
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(member.read())
        local = target.relative_to(html_dir).as_posix()
        for page in pages:
            text = page.read_text(encoding="utf-8")
            if url in text:
                page.write_text(_TAG.sub(_drop_integrity, text.replace(url, local)), encoding="utf-8")
                rewrites += 1
    return rewrites


_TAG = re.compile(r"<(?:script|link)\b[^>]*>")


def _drop_integrity(match: re.Match[str]) -> str:
    """Subresource-integrity hashes name the CDN's minified files; ours are the npm originals."""
    tag = match.group(0)
    if "vendor/" not in tag:
        return tag
    return re.sub(r'\s+(?:integrity|crossorigin)(?:="[^"]*")?', "", tag)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    html_dir = Path(args[0]) if args else Path("results/html")
    try:
        count = vendor(html_dir, Path(".asv/npm"))
    except MlgateError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{html_dir}: {count} CDN references now point to vendor/ (works offline)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
