"""Experiments: replicates, manifests, and parameter sweeps streamed to Parquet.

Reading a sweep's results (docs/experiments.md):

    from bettercare.experiments import load, read_table
    national = read_table("out/my-sweep", "national")   # committed runs, sorted by run_id
    sweep = load("out/my-sweep"); sweep.manifest; sweep.design; sweep.table("areas"); sweep.errors

Names are imported on first use, deliberately: `bettercare --help` imports the sweep command
(`bettercare.experiments.cli`), which must not pull in the model, Dask or pyarrow. These string
imports (`_LAZY`) are invisible to import-linter, so nothing inside bettercare imports through
them: its modules import each other directly, and the layer contract sees those.
"""

from __future__ import annotations

from typing import Any

__all__ = ["SpecError", "Sweep", "load", "load_spec", "read_design", "read_manifest", "read_table", "run_sweep"]

_LAZY = {
    "Sweep": "bettercare.experiments.results",
    "load": "bettercare.experiments.results",
    "read_table": "bettercare.experiments.store",
    "read_manifest": "bettercare.experiments.store",
    "read_design": "bettercare.experiments.store",
    "load_spec": "bettercare.experiments.spec",
    "SpecError": "bettercare.experiments.spec",
    "run_sweep": "bettercare.experiments.runner",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'bettercare.experiments' has no attribute {name!r}")
    import importlib  # noqa: PLC0415 - see the module docstring

    return getattr(importlib.import_module(module), name)
