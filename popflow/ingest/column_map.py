"""Foreign column names: which column of a file holds each of popflow's columns (SPEC §2 ``--columns``).

A column map pairs popflow's name of a column with the name a file gives it,
written ``popflow_name=file_name`` and separated by commas on the command line
(``subscriber_id=msisdn,timestamp=start_time,cell_id=location_id``), or as a
dict in Python. Names are trimmed of surrounding spaces. A column the map does
not name is read under popflow's own name; file columns that no popflow column
is read from are ignored.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from popflow.errors import PopflowError

if TYPE_CHECKING:
    from popflow.ingest.source import SourceSpec

EXAMPLE = "subscriber_id=msisdn,timestamp=start_time"


def parse_column_map(text: str) -> dict[str, str]:
    """The map written as ``popflow_name=file_name,…``; a popflow name given twice is refused."""
    columns: dict[str, str] = {}
    for entry in (e for e in text.split(",") if e.strip()):
        popflow_name, equals, file_name = (part.strip() for part in entry.partition("="))
        if not equals or not popflow_name or not file_name:
            raise PopflowError(f"--columns: '{entry.strip()}' is not popflow_name=file_name (e.g. {EXAMPLE})")
        if popflow_name in columns:
            raise PopflowError(f"--columns: {popflow_name} is mapped twice (to '{columns[popflow_name]}' and "
                               f"'{file_name}'); map each popflow column once")
        columns[popflow_name] = file_name
    return columns


def checked_column_map(spec: SourceSpec, columns: dict[str, str] | None) -> dict[str, str]:
    """The map, trimmed, once it names only the source's columns and maps no file column twice."""
    columns = {str(k).strip(): str(v).strip() for k, v in (columns or {}).items()}
    if not columns:
        return {}
    if spec.read:
        raise PopflowError(f"--columns: {spec.name} are read from GeoJSON properties, which keep popflow's names")
    known = spec.required + spec.optional
    for popflow_name, file_name in columns.items():
        if popflow_name not in known:
            raise PopflowError(f"--columns: {popflow_name} is not a column of {spec.name} "
                               f"(its columns: {', '.join(known)})")
        if not file_name:
            raise PopflowError(f"--columns: {popflow_name} is mapped to an empty name")
    read_as: dict[str, str] = {}
    for popflow_name, file_name in columns.items():
        if file_name in read_as:
            raise PopflowError(f"--columns: the file column '{file_name}' is mapped to both "
                               f"{read_as[file_name]} and {popflow_name}; map each to a column of its own")
        read_as[file_name] = popflow_name
    return columns


def file_names(popflow_names: tuple[str, ...], columns: dict[str, str]) -> dict[str, str]:
    """The file column each popflow column is read from.

    A mapped column is read from its file name; any other from the column of
    its own name, unless the map reads that file column as another one.
    """
    claimed = set(columns.values())
    return {n: columns.get(n, n) for n in popflow_names if n in columns or n not in claimed}
