"""The one executor seam: every backend satisfies `Backend`, and `evaluate` gives each run's own
rows, the same as a single `run()` under the same seed, on every backend and batch size."""

import math

import pytest

from bettercare.experiments.backends import Backend, DaskBackend, InlineBackend, LocalBackend, make_backend
from bettercare.experiments.evaluate import evaluate, national_frame, replicate_tasks
from bettercare.model.run import run
from bettercare.model.scenario import load_scenario

SMALL = {"areas.names": ["Wigan", "Kent"], "delivery.months": 2}
SEEDS = [5, 11, 12345]


def test_every_backend_satisfies_the_protocol():
    for backend in (InlineBackend(), LocalBackend(1), DaskBackend(address="local")):
        assert isinstance(backend, Backend), type(backend).__name__
    assert not isinstance(object(), Backend)


def _same(a, b):
    assert set(a) == set(b)
    for k in a:
        x, y = a[k], b[k]
        if isinstance(x, float) and math.isnan(x):
            assert isinstance(y, float) and math.isnan(y), k
        else:
            assert x == y, k


@pytest.mark.parametrize("workers,batch_size", [(0, 1), (0, 2), (2, 1)])
def test_evaluate_gives_each_run_its_own_rows_equal_to_run(workers, batch_size):
    sc = load_scenario("england-2014", SMALL)
    with make_backend(workers=workers) as backend:
        outcomes = list(evaluate(replicate_tasks(sc, SEEDS, overrides={"trust.initial": 0.7}), backend, batch_size))
    assert sorted(o.run_id for o in outcomes) == [0, 1, 2] and all(o.ok for o in outcomes)
    frame = national_frame(outcomes)
    assert frame.seed.tolist() == SEEDS and frame.replicate.tolist() == [0, 1, 2]
    for row, seed in zip(frame.to_dict(orient="records"), SEEDS, strict=True):
        expected = run("england-2014", seed=seed, overrides={**SMALL, "trust.initial": 0.7}).national
        _same({k: v for k, v in row.items() if k not in ("run_id", "point_id", "replicate", "seed")}, expected)


def test_a_failed_run_comes_back_as_an_error_not_an_exception():
    sc = load_scenario("england-2014", SMALL)
    with InlineBackend() as backend:
        (outcome,) = evaluate(replicate_tasks(sc, [1], overrides={"no.such": 1}), backend)
    assert not outcome.ok and "no.such" in outcome.error["message"]
    assert national_frame([outcome]).empty


def test_one_resolver_for_names_scenarios_and_parameters():
    from bettercare.model.scenario import build_parameters, resolve_scenario

    by_name = resolve_scenario("england-2014", {"trust.initial": 0.3})
    assert by_name == load_scenario("england-2014", {"trust.initial": 0.3})
    base = load_scenario("england-2014")
    assert resolve_scenario(base) is base
    on_scenario = resolve_scenario(base, {"trust.initial": 0.3})
    assert on_scenario.name == "england-2014" and on_scenario.params == by_name.params
    on_params = resolve_scenario(base.params, {"trust.initial": 0.3})
    assert on_params.params == build_parameters(base.params, {"trust.initial": 0.3}) == by_name.params


def test_the_store_commits_through_the_one_atomic_json_writer(tmp_path, monkeypatch):
    from bettercare.experiments import manifest, store

    written = []
    real = manifest.write_json_atomic
    monkeypatch.setattr(
        store, "write_json_atomic", lambda path, obj, **kw: written.append(path) or real(path, obj, **kw)
    )
    with store.Store(tmp_path / "s") as st:
        st.commit([0], [], {"national": [_one_row()]})
    assert [p.parent.name for p in written] == [store.COMMITS]
    assert store.read_commits(tmp_path / "s")[0]["run_ids"] == [0]
    assert not [p for p in (tmp_path / "s").rglob("*.tmp")]


def _one_row():
    import pyarrow as pa

    return pa.table({"run_id": [0], "point_id": [0], "replicate": [0], "seed": [1], "x": [1.5]})
