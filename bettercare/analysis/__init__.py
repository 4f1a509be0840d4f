"""Analysis of sweeps: tables as DataFrames, effects with intervals, sensitivity, quality, figures.

    from bettercare import analysis
    data = analysis.load("runs/tcd")                 # data.national, data.areas, ... (DataFrames)
    analysis.effects(data.national, "trust.initial", "plans_agreed")
    analysis.effects(data.national, ["trust.initial", "deadline.weeks"], "plan_realism_mean")
    analysis.sensitivity("runs/sensitivity")          # Sobol' or Morris indices with intervals

Outcome quality (Pareto, Nash) is part of what a run records, so it lives in the model layer:
`analysis.quality` is `bettercare.model.quality`. Plotting (matplotlib) and sensitivity (SALib)
are the `analysis` extra, imported where they are used.
"""

from bettercare.model import quality

from .indices import sensitivity
from .stats import Results, effects, load, main_effects
from .trace import single_run_trust

__all__ = ["Results", "effects", "load", "main_effects", "quality", "sensitivity", "single_run_trust"]
