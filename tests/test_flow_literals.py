"""The literal test: float literals in the model's dynamics must be unit conversions or on a
short, commented allow-list. Every other number belongs in a sourced input or a bounded parameter.

Extend PATHS to bettercare/model and bettercare/agents when the lead wires the flow model in.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PATHS = [ROOT / "bettercare" / "model" / "flow.py", ROOT / "bettercare" / "model" / "flow_fit.py"]

ALLOWED = {
    0.0: "zero: an empty stock or no flow",
    1.0: "one: the identity, a share's complement, an unchanged index",
    2.0: "two: 2 pi in the seasonal cosine; the 2-sd clip of the area effect",
    7.0: "days per week (unit conversion)",
    365.25: "days per year (unit conversion)",
    1e5: "per 100,000 (ASCOF unit conversion)",
    1e-9: "float tolerance on day boundaries, not a model number",
    1.1: "flow_fit: Gaughan et al.'s experiment, 10% more care-home beds (the check's definition)",
    0.05: "flow_fit: declared fit tolerance (5%), not used by the dynamics",
    0.03: "flow_fit: declared fit tolerance (3%), not used by the dynamics",
    0.02: "flow_fit: declared fit tolerance (2 points of share)",
    0.005: "flow_fit: declared fit tolerance (half a point of growth)",
    1e-3: "flow_fit: optimiser step and check tolerances",
    1e-6: "flow_fit: check tolerance",
    1e-8: "flow_fit: optimiser tolerances",
    1e4: "flow_fit: formatting threshold of the fit table (decimals below it)",
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


def test_only_allowed_float_literals():
    bad = [f"{f}:{line}: {v!r}" for f, line, v in float_literals(PATHS) if v not in ALLOWED]
    assert not bad, "float literals that are neither unit conversions nor allowed:\n" + "\n".join(bad)


def test_the_literal_test_catches_a_stray_number(tmp_path):
    stray = tmp_path / "stray.py"
    stray.write_text("def f(x):\n    return x * 0.37\n")
    assert [v for _, _, v in float_literals([stray])] == [0.37]

