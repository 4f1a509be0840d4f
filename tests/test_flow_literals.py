"""The literal test: float literals in the model's dynamics (bettercare/model, bettercare/agents) must
be unit conversions, tolerances, or on a short, commented allow-list. Every other number belongs in a
sourced input (bettercare/data/inputs.toml, facts.toml) or a bounded parameter (`Parameters`).

Declarations are not dynamics and are not scanned: scenario.py and flow_params.py declare the bounded
parameters (their defaults and bounds are the parameters), and outputs.py only formats numbers.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DECLARATIONS = {"scenario.py", "flow_params.py", "outputs.py"}
PATHS = sorted(
    p for d in ("model", "agents") for p in (ROOT / "bettercare" / d).glob("*.py") if p.name not in DECLARATIONS
)

# Allowed in any file: identities, unit conversions and float tolerances.
ANYWHERE = {
    0.0: "zero: an empty stock, no flow, a lower clip",
    1.0: "one: the identity, a share's complement, an upper clip",
    7.0: "days per week (unit conversion)",
    365.25: "days per year (unit conversion)",
    1e5: "per 100,000 (ASCOF unit conversion)",
    1e-4: "floor under a logarithm's argument (not a model number)",
    1e-6: "float tolerance",
    1e-9: "float tolerance",
    1e-12: "float tolerance",
}

# Allowed in one file only, each with its reason (issue 13 replaced the behavioural constants that
# were listed here by bounded parameters).
ALLOWED = {
    ("flow_fit.py", 1.1): "Gaughan et al.'s experiment, 10% more care-home beds (the check's definition)",
    ("flow_fit.py", 0.05): "declared fit tolerance (5%), not used by the dynamics",
    ("flow_fit.py", 0.03): "declared fit tolerance (3%), not used by the dynamics",
    ("flow_fit.py", 0.02): "declared fit tolerance (2 points of share)",
    ("flow_fit.py", 0.005): "declared fit tolerance (half a point of growth)",
    ("flow_fit.py", 1e-3): "optimiser step and check tolerances",
    ("flow_fit.py", 1e-8): "optimiser tolerances",
    ("flow_fit.py", 1e4): "formatting threshold of the fit table",
    ("negotiation.py", 1e6): "rounds plan shares to integers to seed a table's own generator (a hash, not a number)",
    (
        "delivery.py",
        0.5,
    ): "multi_metric performance money: the mean of the two metrics' achievement (admissions, delays)",
    (
        "acute_trust.py",
        0.3,
    ): "marginal rate emergency tariff: 30% of tariff above the 2008-09 baseline (docs/ODD.md §6)",
    ("acute_trust.py", 0.02): "deficit sensitivity is per 2% of income (the unit of acute.deficit_sensitivity)",
    ("areas.py", 0.05): "default of min_ccg_share, passed from areas.min_ccg_share",
    ("areas.py", 0.3): "a trust below 0.3 of a catchment is merged into a neighbour (geography set-up)",
    ("areas.py", 0.1): "synthetic areas: log-sd of population about a real area's",
    ("areas.py", 2.0): "synthetic areas: Dirichlet concentration of CCG shares",
    ("areas.py", 0.125): "synthetic areas: chance that a CCG is shared with the previous area",
}


def float_literals(paths: list[Path]) -> list[tuple[str, int, float]]:
    """(file, line, value) of every float literal (ints are counts and indices, not listed)."""
    found = []
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, float):
                name = str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)
                found.append((name, node.lineno, node.value))
    return found


def allowed(name: str, value: float) -> bool:
    return value in ANYWHERE or (Path(name).name, value) in ALLOWED


def test_only_allowed_float_literals():
    bad = [f"{f}:{line}: {v!r}" for f, line, v in float_literals(PATHS) if not allowed(f, v)]
    assert not bad, "float literals that are neither unit conversions nor allowed:\n" + "\n".join(bad)


def test_every_allowed_entry_is_still_used():
    used = {(Path(f).name, v) for f, _, v in float_literals(PATHS)}
    stale = sorted(k for k in ALLOWED if k not in used)
    assert not stale, f"allow-list entries no longer in the code: {stale}"


def test_the_literal_test_covers_the_model_and_agents():
    names = {p.name for p in PATHS}
    assert {"model.py", "delivery.py", "flow.py", "organisation.py", "acute_trust.py"} <= names


def test_the_literal_test_catches_a_stray_number(tmp_path):
    stray = tmp_path / "stray.py"
    stray.write_text("def f(x):\n    return x * 0.37\n")
    found = float_literals([stray])
    assert [v for _, _, v in found] == [0.37]
    assert not allowed(found[0][0], 0.37)
