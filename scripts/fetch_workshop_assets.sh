#!/usr/bin/env bash
# Fetch the workshop's front-end assets once, so that `bettercare workshop` works offline.
#
# Solara loads its JavaScript and CSS through a local proxy at /_solara/cdn/<name>@<version>/...,
# which reads $SOLARA_ASSETS_PROXY_CACHE_DIR (default: <venv>/share/solara/cdn) and, on a miss,
# tries a public CDN that these machines cannot reach. This script fills that folder from the npm
# registry instead: `npm pack NAME@VERSION`, unpacked into DIR/NAME@VERSION/.
#
# The versions come from the installed Solara (`python -m bettercare.workshop.assets`), so an
# upgrade of Solara fetches what the new version asks for; without the venv, the list below.
# Idempotent: a package already unpacked is skipped, and npm is needed only when one is missing. About 97 MB, some 10 s the first time.
#
# Usage: bash scripts/fetch_workshop_assets.sh [DIR]
#   DIR defaults to $SOLARA_ASSETS_PROXY_CACHE_DIR, else .venv/share/solara/cdn in the repo.
set -euo pipefail
cd "$(dirname "$0")/.."

dir="${1:-${SOLARA_ASSETS_PROXY_CACHE_DIR:-$PWD/.venv/share/solara/cdn}}"
mkdir -p "$dir"
python="${PYTHON:-.venv/bin/python}"

# What Solara 1.64 asks for (Vuetify 2 app; echarts for the workshop's charts); mermaid and katex are
# loaded by solara.Markdown.
packages=(
  "@widgetti/solara-vuetify-app@10.1.1"
  "requirejs@2.3.6"
  "font-awesome@4.5.0"
  "echarts@5.4.0"
  "@widgetti/vue-grid-layout@2.3.13-alpha.2"
  "mermaid@10.8.0"
  "katex@0.16.9"
)
if [ -x "$python" ] && listed="$("$python" -m bettercare.workshop.assets 2>/dev/null)" && [ -n "$listed" ]; then
  mapfile -t packages <<<"$listed"
fi

missing=()
for spec in "${packages[@]}"; do
  [ -f "$dir/$spec/package.json" ] || missing+=("$spec")
done
if [ "${#missing[@]}" -eq 0 ]; then
  echo "workshop assets in $dir: all ${#packages[@]} already there"
  exit 0
fi
# npm is needed only for what is missing: a machine that has the assets needs no npm.
if ! command -v npm >/dev/null 2>&1; then
  echo "error: npm is needed to fetch ${#missing[@]} missing workshop asset(s) (${missing[*]}) into $dir: apt-get install -y npm, or copy them there" >&2
  exit 2
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
for spec in "${missing[@]}"; do
  target="$dir/$spec"
  (cd "$tmp" && npm pack --silent "$spec" >/dev/null)
  tarball="$(ls "$tmp"/*.tgz)"
  rm -rf "$target.partial"
  mkdir -p "$target.partial"
  tar -xzf "$tarball" -C "$target.partial" --strip-components=1
  rm -f "$tarball"
  rm -rf "$target"
  mv "$target.partial" "$target"
done
echo "workshop assets in $dir: ${#missing[@]} fetched, $(( ${#packages[@]} - ${#missing[@]} )) already there"
