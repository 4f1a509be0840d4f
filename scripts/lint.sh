#!/usr/bin/env bash
# Lint, format and layer checks (CI runs them after the tests). Needs the test extra (scripts/test.sh installs it).
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/lint-imports
