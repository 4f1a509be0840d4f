#!/usr/bin/env bash
# Create .venv with Python 3.12 and install bettercare with the extras named in $1 (default: dev).
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1-dev}"
py=python3
if command -v pyenv >/dev/null 2>&1 && pyenv prefix 3.12 >/dev/null 2>&1; then
  py="$(pyenv prefix 3.12)/bin/python"
fi
"$py" -c 'import sys; assert sys.version_info >= (3, 12), f"bettercare needs Python 3.12+, found {sys.version}"'
[ -x .venv/bin/python ] || "$py" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
if [ -n "$extras" ]; then target=".[${extras}]"; else target="."; fi
.venv/bin/python -m pip install -q -e "$target"
