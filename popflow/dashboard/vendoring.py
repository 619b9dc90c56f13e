"""Copy the dashboard's pinned front-end assets from ``node_modules`` into the package.

Run at development time only, after ``npm ci`` at the repository root::

    npm ci --ignore-scripts && python -m popflow.dashboard.vendoring node_modules

The installed package serves the copies under ``static/vendor/``; it needs no
npm and no internet. ``NOTICE`` records each package's version and licence.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

VENDOR = Path(__file__).parent / "static" / "vendor"

# package → (folder under vendor/, files to copy relative to the package root)
ASSETS = {
    "maplibre-gl": ("maplibre-gl", ["dist/maplibre-gl.mjs", "dist/maplibre-gl-worker.mjs",
                                    "dist/maplibre-gl.css", "LICENSE.txt"]),
    "echarts": ("echarts", ["dist/echarts.simple.min.js", "LICENSE", "NOTICE"]),
    "swagger-ui-dist": ("swagger-ui", ["swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png", "LICENSE",
                                       "NOTICE", "swagger-ui-bundle.js.LICENSE.txt"]),
    "@fontsource/inter": ("inter", ["files/inter-latin-400-normal.woff2", "files/inter-latin-600-normal.woff2",
                                    "LICENSE"]),
}


def vendor(node_modules: Path, target: Path = VENDOR) -> list[dict]:
    """Copy every asset and write ``NOTICE``; returns the packages copied."""
    packages = []
    for package, (folder, files) in ASSETS.items():
        root = node_modules / package
        meta = json.loads((root / "package.json").read_text())
        (target / folder).mkdir(parents=True, exist_ok=True)
        for name in files:
            shutil.copyfile(root / name, target / folder / Path(name).name)
        packages.append({"package": package, "version": meta["version"], "license": meta.get("license", "?"),
                         "folder": folder, "files": [Path(n).name for n in files]})
    (target / "NOTICE").write_text(notice_text(packages))
    return packages


def notice_text(packages: list[dict]) -> str:
    """The NOTICE file: what was vendored, from which npm package, version and licence."""
    lines = ["Third-party front-end assets vendored into popflow's dashboard from the npm registry.",
             "Each folder keeps the package's own licence file beside the copied files.", ""]
    for p in packages:
        lines.append(f"{p['folder']}/: npm package {p['package']} {p['version']}, licence {p['license']}")
        lines.extend(f"    {name}" for name in p["files"])
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    for copied in vendor(Path(sys.argv[1] if len(sys.argv) > 1 else "node_modules")):
        print(f"{copied['package']} {copied['version']} ({copied['license']}) → vendor/{copied['folder']}/")
