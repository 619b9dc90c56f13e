"""The one way popflow puts a value into SQL text: a quoted literal.

Values that a statement cannot take as a parameter (file paths in ``COPY … TO``
and ``read_parquet``, settings in ``SET``) are written with ``literal``; a
quote inside the value (a workspace path such as ``/data/o'brien``) is doubled,
so the text stays one literal.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path


def literal(value: str | Path) -> str:
    """A SQL string literal holding ``value`` exactly."""
    return "'" + str(value).replace("'", "''") + "'"


def literals(values: Iterable[str | Path]) -> str:
    """Comma-separated literals, e.g. for a list of files."""
    return ", ".join(literal(v) for v in values)
