#!/usr/bin/env bash
# Set up and run the whole test suite. This is the README's test command and what CI runs.
# Needs Python 3.12; browser tests need Debian's chromium (.ci/run installs it when missing) and the
# workshop's assets, which the fetch script gets from npm only when some are missing.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh dev
bash scripts/fetch_workshop_assets.sh >/dev/null
.venv/bin/python -m pytest -q "$@"
