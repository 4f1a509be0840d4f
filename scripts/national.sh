#!/usr/bin/env bash
# Set up and run the main job: a national run of england-2014 with a readable summary.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh ""
.venv/bin/bettercare run --scenario england-2014 --seed 1 "$@"
