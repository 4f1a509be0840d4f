#!/usr/bin/env bash
# Set up and run the whole test suite. This is the README's test command and what CI runs.
# Browser tests need Debian's chromium (.ci/run installs it when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh dev
bash scripts/fetch_workshop_assets.sh >/dev/null
.venv/bin/python -m pytest -q "$@"
