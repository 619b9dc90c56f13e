"""The dashboard is self-contained: pinned vendored assets with their licences, nothing loaded from elsewhere."""

from __future__ import annotations

import json
import re
from pathlib import Path

from popflow.dashboard import STATIC
from popflow.dashboard.vendoring import ASSETS

ROOT = Path(__file__).resolve().parent.parent
OWN = [p for p in STATIC.rglob("*") if p.is_file() and "vendor" not in p.parts]


def test_own_files_load_nothing_from_other_hosts():
    for path in OWN:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"(src|href|url)\s*[=(]\s*[\"']?(https?:)?//", text), path
        assert "import(" not in text or path.suffix != ".js", path


def test_every_local_reference_exists():
    for path in OWN:
        for ref in re.findall(r"[\"'(](/static/[^\"')?#]+)", path.read_text(encoding="utf-8")):
            assert (STATIC / ref.removeprefix("/static/")).is_file(), (path, ref)
        for ref in re.findall(r"from \"(\.[^\"]+)\"", path.read_text(encoding="utf-8")):
            assert (path.parent / ref).resolve().is_file(), (path, ref)


def test_vendored_packages_are_pinned_and_noticed():
    pinned = json.loads((ROOT / "package.json").read_text())["dependencies"]
    lock = json.loads((ROOT / "package-lock.json").read_text())["packages"]
    notice = (STATIC / "vendor" / "NOTICE").read_text()
    for package, (folder, files) in ASSETS.items():
        version = pinned[package]
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"{package} must be pinned exactly"
        assert lock[f"node_modules/{package}"]["version"] == version
        assert f"{folder}/: npm package {package} {version}, licence {lock[f'node_modules/{package}']['license']}" \
            in notice
        for name in files:
            assert (STATIC / "vendor" / folder / Path(name).name).is_file()
        assert any("LICENSE" in Path(n).name for n in files)


def test_maplibre_module_and_worker_sit_side_by_side():
    folder = STATIC / "vendor" / "maplibre-gl"
    assert {"maplibre-gl.mjs", "maplibre-gl-worker.mjs", "maplibre-gl.css"} <= {p.name for p in folder.iterdir()}
    assert "maplibre-gl-worker.mjs" in (folder / "maplibre-gl.mjs").read_text(encoding="utf-8")
