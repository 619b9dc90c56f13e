#!/usr/bin/env bash
# Installs popflow into .venv and runs the one-command demo (synthetic city → report).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[serve,live]"
.venv/bin/popflow demo "$@"
