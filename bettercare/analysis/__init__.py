"""Analysis of sweeps: tables as DataFrames, effects with intervals, sensitivity, quality, figures.

    from bettercare import analysis
    data = analysis.load("runs/tcd")                 # data.national, data.areas, ... (DataFrames)
    analysis.effects(data.national, "trust.initial", "plans_agreed")
    analysis.effects(data.national, ["trust.initial", "deadline.weeks"], "plan_realism_mean")
    analysis.sensitivity("runs/sensitivity")          # Sobol' or Morris indices with intervals

Names are imported lazily, so that `import bettercare.analysis` stays cheap. Outcome quality
(Pareto, Nash) is part of what a run records: `bettercare.model.quality`.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Results", "effects", "load", "main_effects", "quality", "sensitivity", "single_run_trust"]

_LAZY = {
    "Results": "bettercare.analysis.stats",
    "load": "bettercare.analysis.stats",
    "effects": "bettercare.analysis.stats",
    "main_effects": "bettercare.analysis.stats",
    "sensitivity": "bettercare.analysis.indices",
    "single_run_trust": "bettercare.analysis.trace",
}


def __getattr__(name: str) -> Any:
    import importlib

    if name == "quality":
        return importlib.import_module("bettercare.model.quality")
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'bettercare.analysis' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
