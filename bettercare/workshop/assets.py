"""The front-end assets Solara serves from its local proxy cache, so the workshop runs offline.

Solara asks for its JavaScript and CSS at /_solara/cdn/<name>@<version>/..., served from
`$SOLARA_ASSETS_PROXY_CACHE_DIR` (default: <sys.prefix>/share/solara/cdn). On a miss it would
fetch them from a public CDN, which these machines cannot reach, and the page would never
appear. `scripts/fetch_workshop_assets.sh` fills that folder once from the npm registry, with
the versions this module reads from the installed Solara (`python -m bettercare.workshop.assets`
prints them), so that upgrading Solara cannot leave the cache behind.
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
from pathlib import Path

# What Solara 1.64 asks for (Vuetify 2 app); used when the installed files cannot be read.
DEFAULT_REQUIRED = ["@widgetti/solara-vuetify-app@10.1.1", "requirejs@2.3.6", "font-awesome@4.5.0", "echarts@5.4.0"]
DEFAULT_OPTIONAL = ["@widgetti/vue-grid-layout@2.3.13-alpha.2", "mermaid@10.8.0", "katex@0.16.9"]
FETCH_HINT = "bash scripts/fetch_workshop_assets.sh"

# (file under the solara package, pattern, required?)
_SOURCES = [
    ("server/templates/solara.html.j2", r"@widgetti/solara-vuetify-app@[\w.\-]+(?=/)", True),
    ("server/templates/solara.html.j2", r"requirejs@[\w.\-]+(?=/)", True),
    ("server/settings.py", r"font-awesome@[\w.\-]+(?=/)", True),
    ("widgets/vue/gridlayout.vue", r"@widgetti/vue-grid-layout@[\w.\-]+(?=/)", False),
    ("components/markdown.py", r"mermaid@[\w.\-]+(?=/)", False),
    ("components/markdown.py", r"katex@[\w.\-]+(?=/)", False),
]


def _solara_dir() -> Path | None:
    spec = importlib.util.find_spec("solara")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def packages() -> tuple[list[str], list[str]]:
    """(required, optional) npm package specs, as the installed Solara names them."""
    root = _solara_dir()
    if root is None:
        return list(DEFAULT_REQUIRED), list(DEFAULT_OPTIONAL)
    required: list[str] = []
    optional: list[str] = []
    for rel, pattern, needed in _SOURCES:
        try:
            found = sorted(set(re.findall(pattern, (root / rel).read_text(encoding="utf-8"))))
        except OSError:
            found = []
        (required if needed else optional).extend(found)
    try:  # the workshop's charts: Solara's ECharts component names its version in a variable
        text = (root / "components/echarts.vue").read_text(encoding="utf-8")
        required.extend(f"echarts@{v}" for v in sorted(set(re.findall(r'const version = "([\w.\-]+)"', text))))
    except OSError:
        pass
    names = {re.sub(r"@[^@]+$", "", s) for s in required}
    if len(names) < 4:  # the files changed shape: fall back rather than under-fetch
        return list(DEFAULT_REQUIRED), list(DEFAULT_OPTIONAL)
    return required, optional


def cache_dir() -> Path:
    env = os.environ.get("SOLARA_ASSETS_PROXY_CACHE_DIR")
    return Path(env) if env else Path(sys.prefix) / "share" / "solara" / "cdn"


def missing(directory: Path | None = None) -> list[str]:
    d = directory or cache_dir()
    return [spec for spec in packages()[0] if not (d / spec / "package.json").is_file()]


if __name__ == "__main__":
    req, opt = packages()
    print("\n".join(req + opt))
