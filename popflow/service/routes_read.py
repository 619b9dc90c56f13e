"""Read-only API: indicators, area levels and areas, published releases and their tables."""

import dataclasses
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Response
from fastapi.concurrency import run_in_threadpool

from popflow import indicators
from popflow.errors import PopflowError
from popflow.indicators.roles import column_roles
from popflow.place_names import country_names, region_names
from popflow.service.auth import caller, forbidden, service
from popflow.service.release_store import FORMATS, RELEASE_ID, TABLE_NAME, json_records
from popflow.service.schemas import ERRORS, Error, IndicatorInfo, Level, Names, ReleaseSummary, parameter_model
from popflow.service.scope import indicator_allowed, release_visible
from popflow.service.tokens import Token

router = APIRouter(prefix="/api", responses=ERRORS, tags=["published data"])
NOT_FOUND = {404: {"model": Error, "description": "no such item"}}
ReleaseId = Annotated[str, Path(pattern=RELEASE_ID, description="a release id, e.g. 20260125T080000-1a2b3c4d")]


def indicator_info(indicator) -> dict:
    """An indicator's definition and parameters, from its registration and parameter object."""
    params = [{"name": f.name, "flag": f.metadata["flag"], "help": f.metadata["help"],
               "default": f.metadata.get("shown") or _jsonable(f.default), "type": str(f.type),
               "unit": f.metadata.get("unit")}
              for f in dataclasses.fields(indicator.params)]
    return {"name": indicator.name, "summary": indicator.summary, "description": indicator.description,
            "parameters": params, "request_schema": parameter_model(indicator).model_json_schema(),
            "roles": column_roles(indicator)}


def _jsonable(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


@router.get("/indicators", response_model=list[IndicatorInfo], summary="List indicators")
def list_indicators(token: Token = Depends(caller)):
    """Every indicator this token may use, with its definition and parameters."""
    return [indicator_info(i) for i in indicators.all_indicators() if indicator_allowed(token, i.name)]


@router.get("/indicators/{name}", response_model=IndicatorInfo, responses=NOT_FOUND, summary="One indicator")
def get_indicator(name: Annotated[str, Path(pattern=TABLE_NAME)], token: Token = Depends(caller)):
    """An indicator's definition and parameters (the request schema of its releases)."""
    try:
        indicator = indicators.get(name)
    except PopflowError:
        raise HTTPException(404, "no such indicator") from None
    if not indicator_allowed(token, name):
        raise forbidden()
    return indicator_info(indicator)


@router.get("/levels", response_model=list[Level], summary="Area levels")
def list_levels(token: Token = Depends(caller), svc=Depends(service)):
    """Area levels from the coarsest to the finest, with their number of areas."""
    levels = svc.areas.levels()
    counts = {}
    for row in svc.areas.rows():
        counts[str(row["level"])] = counts.get(str(row["level"]), 0) + 1
    return [{"name": name, "areas": counts.get(name, 0), "finest": name == levels[-1]} for name in levels]


@router.get("/areas", responses={**NOT_FOUND, 200: {"content": {"application/geo+json": {}},
                                                     "description": "a GeoJSON FeatureCollection"}},
            response_class=Response, summary="Areas as GeoJSON")
def get_areas(level: Annotated[str | None, Query(max_length=64, description="area level (default: finest)")] = None,
              token: Token = Depends(caller), svc=Depends(service)):
    """The areas of one level as a GeoJSON FeatureCollection (each with a label point)."""
    body = svc.areas.geojson(level)
    if body is None:
        raise HTTPException(404, "no such area level")
    return Response(body, media_type="application/geo+json")


@router.get("/names", response_model=Names, summary="Names of codes")
def get_names(token: Token = Depends(caller), svc=Depends(service)):
    """Area, region (the ingested ``regions`` source) and country names, for showing names instead of codes."""
    areas = {str(a["area_id"]): str(a["name"]) for a in svc.areas.rows()}
    return {"areas": areas, "regions": region_names(svc.ws.connect()), "countries": country_names()}


def summary(manifest: dict) -> dict:
    """The listing view of a manifest."""
    return {"release_id": manifest["release_id"], "indicator": manifest["indicator"],
            "level": (manifest.get("parameters") or {}).get("level"), "parameters": manifest.get("parameters", {}),
            "window": manifest.get("window", {}), "privacy": manifest.get("privacy", {}),
            "rows": manifest.get("rows", {}), "suppressed": manifest.get("suppressed"),
            "created_at": manifest.get("created_at"), "tables": list(manifest.get("rows", {}))}


@router.get("/releases", response_model=list[ReleaseSummary], summary="List published releases")
def list_releases(indicator: Annotated[str | None, Query(max_length=64)] = None,
                  token: Token = Depends(caller), svc=Depends(service)):
    """Published releases within the token's scope, newest first."""
    levels = svc.areas.levels()
    return [summary(m) for m in svc.releases.manifests()
            if release_visible(token, m, levels, svc.ws.settings.default_privacy)
            and (indicator is None or m["indicator"] == indicator)]


def visible_manifest(svc, token: Token, release_id: str) -> dict:
    manifest = svc.releases.manifest(release_id)
    if manifest is None:
        raise HTTPException(404, "no such release")
    if not release_visible(token, manifest, svc.areas.levels(), svc.ws.settings.default_privacy):
        raise forbidden()
    return manifest


@router.get("/releases/{release_id}", response_model=dict[str, Any], responses=NOT_FOUND, summary="A manifest")
def get_release(release_id: ReleaseId, token: Token = Depends(caller), svc=Depends(service)):
    """A release's manifest: parameters, window, privacy, rows published and suppressed, inputs."""
    return visible_manifest(svc, token, release_id)


TABLE_RESPONSES = {**NOT_FOUND, 200: {"description": "the published cells",
                                      "content": {media.split(";")[0]: {} for media in FORMATS.values()}}}


@router.get("/releases/{release_id}/tables/{table}", response_class=Response, responses=TABLE_RESPONSES,
            summary="A release table as JSON, CSV, Parquet or GeoJSON")
async def get_table(release_id: ReleaseId, table: Annotated[str, Path(pattern=TABLE_NAME)],
                    format: Literal["json", "csv", "parquet", "geojson"] = "json",
                    limit: Annotated[int | None, Query(ge=1, le=1_000_000, description="json: rows to return")] = None,
                    offset: Annotated[int, Query(ge=0, le=100_000_000, description="json: rows to skip")] = 0,
                    token: Token = Depends(caller), svc=Depends(service)):
    """Published cells of one table. JSON gives records with ISO 8601 local times (with offset);
    suppressed cells are absent, never zero. Whole tables are served from memory once read."""
    paged = format == "json" and (limit is not None or offset)
    body = None if paged else svc.releases.cached(release_id, table, format)
    if body is None:
        body = await run_in_threadpool(_read_table, svc, token, release_id, table, format, limit, offset)
    else:
        visible_manifest(svc, token, release_id)
    headers = {"Content-Disposition": f'attachment; filename="{release_id}.{table}.{format}"'} \
        if format in ("csv", "parquet") else None
    return Response(body, media_type=FORMATS[format], headers=headers)


def _read_table(svc, token: Token, release_id: str, table: str, fmt: str, limit: int | None, offset: int) -> bytes:
    """Read (and cache) a table from disk, or one page of it as JSON."""
    visible_manifest(svc, token, release_id)
    if fmt == "json" and (limit is not None or offset):
        data = svc.releases.table(release_id, table)
        body = None if data is None else json_records(data.slice(offset, limit),
                                                      {"release_id": release_id, "table": table}, data.num_rows)
    else:
        body = svc.releases.serialised(release_id, table, fmt)
    if body is None:
        raise HTTPException(404, "no such table")
    return body
