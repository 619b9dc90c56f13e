#!/usr/bin/env bash
# Installs everything the test suite needs (system packages, then Python packages into .venv),
# lints, and runs the whole suite. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

# need COMMAND DEBIAN_PACKAGE: install the package from Debian when the command is missing.
need() {
    command -v "$1" >/dev/null 2>&1 && return
    local sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
    [ -n "${apt_updated:-}" ] || { $sudo apt-get update -qq; apt_updated=1; }
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$2" >/dev/null
}
need java openjdk-17-jre-headless   # PySpark local mode for the Spark engine tests
need chromium chromium              # headless browser for the dashboard tests (driven by Playwright)
need nats-server nats-server        # JetStream for the live-mode tests (they start their own server)

python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[test]"
.venv/bin/ruff check popflow tests benchmarks
.venv/bin/python -m pytest -q -p no:cacheprovider "$@"
