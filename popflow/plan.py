"""A release plan: the releases of a package, read from a TOML file (``popflow publish PLAN.toml``).

Keys at the top of the file are defaults; each ``[[release]]`` table is one
entry of the plan::

    output = "package"           # folder of the output files, relative to the plan file
    format = "csv"               # parquet (default), csv or geojson
    privacy = "ckm"              # and epsilon, delta, max_contrib, max_value
    from = 2026-01-01            # any indicator option, named as in Python and HTTP requests
    to = 2026-01-31

    [[release]]
    run = "present-population"         # the indicator, as in `popflow run`
    level = ["district", "city"]       # a list: one release per value
    by = ["", "gender", "age_band"]    # "" no breakdown, "gender,age_band" both in one table

    [[release]]
    run = "residents"
    name = "residents-by-gender"       # the file's name, instead of the indicator's, before any listed values
    by = "gender"

A default applies to every release whose indicator takes that option; an
option in a ``[[release]]`` table must be one its indicator takes. Lists
expand into one release per combination of their values, in the order written.
A release's file is ``output/NAME-VALUES.format``: ``name`` (default: the
indicator) followed by the values its lists gave it (``present-population-city-gender``);
without ``output`` releases are kept in the workspace only. Every value is
checked, and every file name and folder, before any release runs.
"""

from __future__ import annotations

import dataclasses
import itertools
import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from popflow import indicators
from popflow.disclosure.request import PrivacyRequest
from popflow.errors import PopflowError
from popflow.indicators.params import from_text, option_name
from popflow.outputs import check_suffix

FILE_KEYS = ("output", "format")  # where a release's file goes
RELEASE_KEYS = ("run", "name")  # in [[release]] tables only
PRIVACY_KEYS = tuple(option_name(f) for f in dataclasses.fields(PrivacyRequest))


@dataclass(frozen=True)
class PlannedRelease:
    """One release of a plan: its indicator, parameters (by field name), privacy request and output file."""

    where: str  # the plan file, line and [[release]] table it comes from
    label: str
    indicator: str
    params: dict
    privacy: PrivacyRequest
    out: Path | None


@dataclass(frozen=True)
class Plan:
    """The releases of a package, in the order they run."""

    releases: tuple[PlannedRelease, ...]

    @classmethod
    def read(cls, path: str | Path) -> Plan:
        """The plan in a TOML file; file names are relative to its folder."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise PopflowError(f"{path}: cannot read the plan ({getattr(exc, 'strerror', None) or exc})") from None
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise PopflowError(f"{path}: {exc}") from None
        return cls.from_dict(data, path.parent, str(path), _release_lines(text))

    @classmethod
    def from_dict(cls, data: dict, folder: str | Path = ".", source: str = "plan",
                  lines: list[int] | None = None) -> Plan:
        """The plan held by ``data`` (a parsed TOML document); ``lines`` are its [[release]] tables' lines."""
        tables = data.get("release", [])
        defaults = {k: v for k, v in data.items() if k != "release"}
        if not isinstance(tables, list) or not tables or not all(isinstance(t, dict) for t in tables):
            raise PopflowError(f"{source}: a plan needs at least one [[release]] table")
        _check_defaults(defaults, source)
        planned = []
        for number, table in enumerate(tables, 1):
            where = f"{source}, line {lines[number - 1]}" if lines else source
            planned += _expand(defaults, table, Path(folder), f"{where}: [[release]] {number}")
        _refuse_shared_files(planned)
        return cls(tuple(planned))


def _release_lines(text: str) -> list[int]:
    """The line number of each ``[[release]]`` header, in order."""
    return [n for n, line in enumerate(text.splitlines(), 1) if re.match(r"\s*\[\[\s*release\s*\]\]", line)]


def _check_defaults(defaults: dict, source: str) -> None:
    """Refuse a default that no indicator takes or that belongs in a [[release]] table."""
    options = {option_name(f) for i in indicators.all_indicators() for f in dataclasses.fields(i.params)}
    for key in defaults:
        if key in RELEASE_KEYS:
            raise PopflowError(f"{source}: '{key}' belongs in a [[release]] table, not among the defaults")
        if key not in {*options, *PRIVACY_KEYS, *FILE_KEYS}:
            raise PopflowError(f"{source}: '{key}' is not an option of any indicator")


def _expand(defaults: dict, table: dict, folder: Path, where: str) -> list[PlannedRelease]:
    """The releases one [[release]] table stands for: one per combination of its lists' values."""
    name = table.get("run")
    if not isinstance(name, str):
        raise PopflowError(f"{where}: 'run' (the indicator to release) is missing")
    try:
        indicator = indicators.get(name)
    except PopflowError as exc:
        raise PopflowError(f"{where}: {exc}") from None
    fields = {option_name(f): f.name for f in dataclasses.fields(indicator.params)}
    for key in table:
        if key not in {*fields, *PRIVACY_KEYS, *FILE_KEYS, *RELEASE_KEYS}:
            raise PopflowError(f"{where} ({name}): '{key}' is not an option of {name} "
                               f"(options: {', '.join(fields)})")
    values = {k: v for k, v in defaults.items() if k in {*fields, *PRIVACY_KEYS, *FILE_KEYS}} | table
    listed = [k for k, v in values.items() if isinstance(v, list)]
    planned = []
    for combination in itertools.product(*(_choices(values[k], k, where) for k in listed)):
        chosen = values | dict(zip(listed, combination, strict=True))
        label = " ".join([name, *(f"{k}={_shown(v)}" for k, v in zip(listed, combination, strict=True))])
        try:
            planned.append(_planned(indicator, chosen, fields, folder, where, label, combination))
        except PopflowError as exc:
            raise PopflowError(f"{where} ({label}): {exc}") from None
    return planned


def _shown(value) -> str:
    return str(value) if str(value) else '""'


def _choices(value: list, key: str, where: str) -> list:
    """A list's values, each one a release's; a list may not repeat a value or hold tables."""
    if any(isinstance(v, dict | list) for v in value) or len({str(v) for v in value}) != len(value) or not value:
        raise PopflowError(f"{where}: '{key}' must list distinct single values")
    return value


def _planned(indicator, chosen: dict, fields: dict, folder: Path, where: str, label: str,
             combination) -> PlannedRelease:
    """One release, every value checked as the CLI checks it."""
    for key, value in chosen.items():
        if isinstance(value, dict):
            raise PopflowError(f"'{key}' must be a value or a list of values")
    params = {fields[k]: v for k, v in chosen.items() if k in fields}
    from_text(indicator.params, params)
    privacy = PrivacyRequest.from_options(**{k: v for k, v in chosen.items() if k in PRIVACY_KEYS})
    out = None
    if "output" in chosen:
        stem = "-".join([str(chosen.get("name") or indicator.name), *(_slug(v) for v in combination if str(v))])
        out = _output_file(folder / str(chosen["output"]), stem, str(chosen.get("format", "parquet")))
    return PlannedRelease(where, label, indicator.name, params, privacy, out)


def _slug(value) -> str:
    return re.sub(r"[^\w.-]+", "+", str(value)).strip("+")


def _output_file(folder: Path, stem: str, fmt: str) -> Path:
    """``folder/stem.fmt``, refused when the folder cannot be made or written, or the name is no file name."""
    if not re.fullmatch(r"[\w][\w.+-]*", stem):
        raise PopflowError(f"name '{stem}' is not a file name (letters, digits, . _ + -)")
    path = folder / f"{stem}.{fmt.lower()}"
    try:
        check_suffix(path)
    except PopflowError:
        raise PopflowError(f"format '{fmt}': must be parquet, csv or geojson") from None
    existing = next(p for p in [folder, *folder.parents] if p.exists())
    if not existing.is_dir() or not os.access(existing, os.W_OK):
        raise PopflowError(f"output folder {folder}: {existing} is not a folder popflow can write in")
    if path.is_dir():
        raise PopflowError(f"{path}: is a folder, not a file")
    return path


def _refuse_shared_files(planned: list[PlannedRelease]) -> None:
    """Two releases may not write one file."""
    seen: dict[Path, PlannedRelease] = {}
    for release in planned:
        if release.out in seen:
            other = seen[release.out]
            raise PopflowError(f"{release.where} ({release.label}): would write {release.out} as {other.where} "
                               f"({other.label}) does; give them different names")
        if release.out is not None:
            seen[release.out] = release
