#!/usr/bin/env bash
# Installs everything the test suite needs into .venv, then lints and runs the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[test]"
.venv/bin/ruff check popflow tests benchmarks
.venv/bin/python -m pytest -q -p no:cacheprovider "$@"
