"""Published releases as the service reads them: ``<workspace>/releases/<release_id>/``.

Release ids are checked against a strict pattern and the folder is resolved
under ``releases/`` before anything is opened, so no request can reach another
path. Releases never change once written, so serialised tables are cached.
"""

from __future__ import annotations

import io
import json
import re
import tempfile
import threading
from collections import OrderedDict
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from popflow.outputs import geojson, iso_text, write_table
from popflow.rounding import rounded
from popflow.workspace import RELEASES_DIR

RELEASE_ID = r"^\d{8}T\d{6}-[0-9a-f]{8}$"
TABLE_NAME = r"^[a-z][a-z0-9_-]{0,63}$"
FORMATS = {"json": "application/json", "csv": "text/csv; charset=utf-8",
           "parquet": "application/vnd.apache.parquet", "geojson": "application/geo+json"}


class ReleaseStore:
    """Reads manifests and tables of published releases, caching serialised tables."""

    def __init__(self, workspace, geometries, cache_entries: int = 64):
        self.ws = workspace
        self.geometries = geometries  # () → {area_id: WKT}
        self.root = (Path(workspace.path) / RELEASES_DIR).resolve()
        self._cache: OrderedDict[tuple, bytes] = OrderedDict()
        self._manifests: dict[str, dict] = {}
        self._limit = cache_entries
        self._lock = threading.Lock()

    def folder(self, release_id: str) -> Path | None:
        """The release's folder, or None for a malformed id or one that is not a release."""
        if not re.fullmatch(RELEASE_ID, release_id):
            return None
        folder = (self.root / release_id).resolve()
        if folder.parent != self.root or not (folder / "manifest.json").is_file():
            return None
        return folder

    def manifest(self, release_id: str) -> dict | None:
        if release_id in self._manifests:
            return self._manifests[release_id]
        folder = self.folder(release_id)
        if folder is None:
            return None
        manifest = json.loads((folder / "manifest.json").read_text())
        self._manifests[release_id] = manifest
        return manifest

    def manifests(self) -> list[dict]:
        """Every published release's manifest, newest first."""
        ids = sorted((p.name for p in self.root.iterdir() if re.fullmatch(RELEASE_ID, p.name)), reverse=True) \
            if self.root.is_dir() else []
        return [m for m in (self.manifest(i) for i in ids) if m is not None]

    def table(self, release_id: str, name: str) -> pa.Table | None:
        """A published table, or None when the release has no such table."""
        manifest = self.manifest(release_id)
        if manifest is None or not re.fullmatch(TABLE_NAME, name) or name not in manifest.get("rows", {}):
            return None
        return pq.read_table(self.folder(release_id) / f"{name}.parquet")

    def cached(self, release_id: str, name: str, fmt: str) -> bytes | None:
        """A serialised table if it is in memory already (never touches the disk)."""
        with self._lock:
            return self._cache.get((release_id, name, fmt))

    def serialised(self, release_id: str, name: str, fmt: str) -> bytes | None:
        """The whole table in ``fmt`` (json, csv, parquet, geojson), from the cache when possible."""
        key = (release_id, name, fmt)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        table = self.table(release_id, name)
        if table is None:
            return None
        data = self.encode(table, fmt, {"release_id": release_id, "table": name})
        with self._lock:
            self._cache[key] = data
            while len(self._cache) > self._limit:
                self._cache.popitem(last=False)
        return data

    def encode(self, table: pa.Table, fmt: str, meta: dict) -> bytes:
        """Serialise a table: JSON records, CSV or GeoJSON with ISO local times, or Parquet as stored."""
        if fmt == "json":
            return json_records(table, meta)
        if fmt == "geojson":
            return json.dumps(geojson(iso_text(rounded(table)), self.geometries()), default=str).encode()
        if fmt == "parquet":
            buffer = io.BytesIO()
            pq.write_table(table, buffer)
            return buffer.getvalue()
        with tempfile.TemporaryDirectory() as tmp:  # the CLI's CSV writer, so both give the same bytes
            path = Path(tmp) / "table.csv"
            write_table(table, path)
            return path.read_bytes()


def json_records(table: pa.Table, meta: dict, total: int | None = None) -> bytes:
    """``{"release_id", "table", "columns", "rows": [records], "total_rows"}`` with ISO local times and
    numbers rounded by their columns' roles (``popflow.rounding``)."""
    text = iso_text(rounded(table))
    columns = [{"name": f.name, "type": str(f.type)} for f in table.schema]
    body = {**meta, "columns": columns, "total_rows": total if total is not None else table.num_rows,
            "rows": text.to_pylist()}
    return json.dumps(body, default=str, separators=(",", ":")).encode()


__all__ = ["ReleaseStore", "FORMATS", "RELEASE_ID", "TABLE_NAME", "json_records"]
