#!/usr/bin/env bash
# Reproduce docs/findings.md: the quick catalog sweeps (a few minutes each on 2 cores), a report
# for each, and the findings tables (scripts/findings.py). Usage: bash scripts/findings.sh [DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-runs/findings}"
for name in trust-compromise-deadline h1-trust h2-holdout h3-deadline h4-hospitals h5-centre \
            h6-relationships h7-coterminous h8-no-new-money sensitivity; do
  code=0
  .venv/bin/bettercare sweep "$name" --quick --out "$out/$name" || code=$?
  if [ "$code" -ne 0 ] && [ "$code" -ne 1 ]; then exit "$code"; fi   # 1: some runs failed (see the report)
  .venv/bin/bettercare report "$out/$name"
done
.venv/bin/python scripts/findings.py "$out" > "$out/findings-tables.md"
echo "tables: $out/findings-tables.md; reports: $out/*/report.html"
