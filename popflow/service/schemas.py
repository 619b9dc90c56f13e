"""HTTP request and response models; each indicator's request is generated from its parameter object.

The parameter dataclass stays the one source of truth: its fields give the
names, JSON types, help texts and defaults here, and its parsers validate the
values (as they do for the CLI's options).
"""

import dataclasses
import datetime
import types
import typing
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from popflow.disclosure.request import PrivacyRequest
from popflow.indicators.params import option_name

SHORT_TEXT = Annotated[str, Field(min_length=1, max_length=64)]


def _json_type(hint) -> Any:
    """The request type accepted for a parameter field of type ``hint`` (text is always accepted).

    Numbers are not bounded here: the field's parser and range refuse them with the CLI's message."""
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    base = args[0] if typing.get_origin(hint) in (typing.Union, types.UnionType) else hint
    if base is datetime.date:
        return datetime.date
    if base is int:
        return int | SHORT_TEXT
    if base is float:
        return float | SHORT_TEXT
    if typing.get_origin(base) is tuple:
        return Annotated[list[SHORT_TEXT], Field(max_length=8)] | SHORT_TEXT
    return SHORT_TEXT


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.replace("_", "-").split("-"))


def describe_field(f: dataclasses.Field) -> str:
    default = f.metadata.get("shown") or f.default
    return f"{f.metadata['help']} (CLI {f.metadata['flag']}; default: {default if default not in (None, ()) else '—'})"


def parameter_model(indicator) -> type[BaseModel]:
    """A pydantic model of the indicator's parameters (all optional, unknown names refused)."""
    hints = typing.get_type_hints(indicator.params)
    fields = {f.name: (_json_type(hints[f.name]) | None, Field(None, description=describe_field(f)))
              for f in dataclasses.fields(indicator.params)}
    return create_model(f"{_camel(indicator.name)}Parameters", __config__=ConfigDict(extra="forbid"),
                        __doc__=f"Parameters of {indicator.name}: {indicator.summary}", **fields)


def _privacy_options() -> dict[str, Any]:
    """The privacy options of ``PrivacyRequest`` as request fields named like the CLI's options."""
    hints = typing.get_type_hints(PrivacyRequest)
    return {option_name(f): (_json_type(hints[f.name]) | None, Field(None, description=describe_field(f)))
            for f in dataclasses.fields(PrivacyRequest)}


ReleaseOptions = create_model("ReleaseOptions", __config__=ConfigDict(extra="forbid"),
                              __doc__="Privacy options every release request takes.", **_privacy_options())
PRIVACY_OPTIONS = frozenset(ReleaseOptions.model_fields)


def release_request_model(indicators: list) -> Any:
    """One request model per indicator, told apart by the ``indicator`` field."""
    models = []
    for indicator in indicators:
        params = parameter_model(indicator)
        models.append(create_model(
            f"{_camel(indicator.name)}Release", __base__=ReleaseOptions,
            __doc__=f"Create a {indicator.name} release: {indicator.summary}",
            indicator=(Literal[indicator.name], ...),
            parameters=(params, Field(default_factory=params, description="indicator parameters")),
        ))
    if len(models) == 1:
        return models[0]
    return Annotated[typing.Union[tuple(models)], Field(discriminator="indicator")]  # noqa: UP007


def parameter_values(request: BaseModel) -> dict[str, Any]:
    """Given parameters as values the dataclass parsers accept (lists become tuples)."""
    values = request.parameters.model_dump(exclude_none=True)
    return {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}


class Error(BaseModel):
    detail: str


class ParameterInfo(BaseModel):
    name: str
    flag: str
    help: str
    default: Any = None
    type: str
    unit: Literal["s", "h"] | None = Field(None, description="unit of a number: s (a duration in seconds), h (hours)")


ColumnRole = Literal["time", "label", "area", "category", "count", "interval", "money", "share", "change", "rank"]


class Roles(BaseModel):
    """What each released column is (see ``popflow.indicators.roles``)."""

    columns: dict[str, ColumnRole]
    flow: list[str] | None = Field(None, description="the (from, to) area columns of a movement")
    currency: str | None = Field(None, description="the column naming the currency of money columns")
    tables: dict[str, list[str]] = Field(description="key columns of each table, with no breakdown asked for")


class IndicatorInfo(BaseModel):
    name: str
    summary: str
    description: str
    parameters: list[ParameterInfo]
    request_schema: dict[str, Any]
    roles: Roles


class Names(BaseModel):
    """Names for readers of the codes releases carry (releases and downloads keep the codes)."""

    areas: dict[str, str] = Field(description="area id → name, every level")
    regions: dict[str, str] = Field(description="region code → name, from the ingested regions source")
    countries: dict[str, str] = Field(description="ISO 3166-1 alpha-2 code → country name")


class Job(BaseModel):
    id: str
    indicator: str
    status: Literal["queued", "running", "done", "failed"]
    progress: float | None = Field(None, ge=0, le=1, description="estimated share done (from earlier run times)")
    stage: str
    submitted_at: str
    started_at: str | None = None
    finished_at: str | None = None
    release_id: str | None = None
    error: str | None = None


class ReleaseSummary(BaseModel):
    release_id: str
    indicator: str
    level: str | None
    parameters: dict[str, Any]
    window: dict[str, Any]
    privacy: dict[str, Any]
    rows: dict[str, int]
    suppressed: dict[str, Any] | None = None
    created_at: str | None = None
    tables: list[str]


class Level(BaseModel):
    name: str
    areas: int
    finest: bool


class Caller(BaseModel):
    name: str
    role: str
    indicators: list[str] | None
    min_level: str | None
    privacy_modes: list[str] | None = None
    expires_at: str | None


ERRORS = {status: {"model": Error, "description": text} for status, text in (
    (401, "missing, invalid, expired or revoked token"), (403, "outside the token's role or scope"),
    (429, "rate limit exceeded"), (413, "request body too large"))}


class LiveSnapshotModel(BaseModel):
    """The latest published live snapshot (as ``LiveSnapshot.to_json()``)."""

    freshness: dict[str, Any] = Field(description="published_at (UTC), newest_event, lag_seconds, bins, levels, k, …")
    by: list[str] = Field(description="the breakdowns of the cells")
    level: str | None = Field(description="the area level asked for (null: the finest areas)")
    cells: list[dict[str, Any]] = Field(description="time (bin start, ISO 8601 local), area_id, breakdowns, people")
