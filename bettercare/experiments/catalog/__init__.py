"""The catalog of named experiments: one TOML spec per file in this directory.

`bettercare sweep --list` shows them; `bettercare sweep NAME [--quick]` runs one. The files are
ordinary specs (docs/experiments.md); copy one to start your own.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

ORDER = (
    "trust-compromise-deadline",
    "h1-trust",
    "h2-holdout",
    "h3-deadline",
    "h4-hospitals",
    "h5-centre",
    "h6-relationships",
    "h7-coterminous",
    "h8-no-new-money",
    "mechanisms",
    "sensitivity",
)


def _dir():
    return resources.files(__name__)


def names() -> list[str]:
    """Catalog names: the headline first, then H1 to H8, then the rest alphabetically."""
    found = sorted(p.name[:-5] for p in _dir().iterdir() if p.name.endswith(".toml"))
    ranked = [n for n in ORDER if n in found]
    return ranked + [n for n in found if n not in ranked]


def text(name: str) -> str:
    return (_dir() / f"{name}.toml").read_text(encoding="utf-8")


def entries() -> list[dict[str, Any]]:
    """Name, design, description and run counts (full and --quick) of every catalog experiment."""
    # spec.py reads specs from this catalog, so spec and designs are imported here, not at the top.
    from ..designs import count_points  # noqa: PLC0415
    from ..spec import parse_spec  # noqa: PLC0415

    rows = []
    for name in names():
        full = parse_spec(text(name), source=f"catalog:{name}")
        quick = parse_spec(text(name), source=f"catalog:{name}", quick=True)
        rows.append(
            {
                "name": name,
                "design": full.design,
                "description": full.description,
                "runs": count_points(full) * full.replicates,
                "runs_quick": count_points(quick) * quick.replicates,
                "outcomes": full.outcomes,
            }
        )
    return rows
