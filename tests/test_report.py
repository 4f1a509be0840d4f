"""`bettercare report`: the HTML report of real (tiny) sweeps renders in headless Chromium, offline,
with every figure loaded; and the figure functions write PNG and SVG."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
AREAS = '["Wigan", "Rutland", "North Somerset", "Kent"]'

FACTORIAL = f"""
[experiment]
name = "tiny-factorial"
description = "two factors, four areas"
scenario = "england-2014"
replicates = 2
seed = 5
design = "factorial"

[parameters]
"trust.initial" = [0.2, 0.8]
"deadline.weeks" = [6, 16]

[fixed]
"areas.names" = {AREAS}

[outputs]
tables = ["national", "areas"]
outcomes = ["plans_agreed", "weeks_to_agreement_mean", "plan_realism_mean"]
"""

SOBOL = f"""
[experiment]
name = "tiny-sobol"
scenario = "england-2014"
replicates = 1
seed = 6
design = "sobol"
samples = 4
second_order = false

[parameters]
"trust.initial" = {{ min = 0.1, max = 0.9 }}
"negotiation.compromise" = {{ min = 0.5, max = 2.0 }}

[fixed]
"areas.names" = {AREAS}

[outputs]
tables = ["national"]
outcomes = ["trust_mean_end", "integration_index_mean"]
"""


def _sweep(tmp: Path, name: str, text: str) -> Path:
    from bettercare.experiments import load_spec, run_sweep

    spec = tmp / f"{name}.toml"
    spec.write_text(text)
    out = tmp / name
    result = run_sweep(load_spec(spec), out, workers=0, log=lambda _: None)
    assert result.exit_code == 0
    return out


@pytest.fixture(scope="module")
def sweeps(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("report")
    return {"factorial": _sweep(tmp, "factorial", FACTORIAL), "sobol": _sweep(tmp, "sobol", SOBOL), "tmp": tmp}


def _bettercare(*args: str) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("bettercare")
    return subprocess.run([str(exe), *args], check=False, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def reports(sweeps):
    """The two reports, made once by the command line: the factorial with --figures, the sobol by default."""
    tmp = sweeps["tmp"]
    made = {"factorial": tmp / "factorial.html", "figures": tmp / "figs", "sobol": sweeps["sobol"] / "report.html"}
    made["runs"] = [
        _bettercare(
            "report",
            str(sweeps["factorial"]),
            "--out",
            str(made["factorial"]),
            "--figures",
            str(made["figures"]),
            "--area",
            "Wigan",
        ),
        _bettercare("report", str(sweeps["sobol"]), "--interval", "bootstrap"),  # default --out DIR/report.html
    ]
    return made


def test_report_command_writes_html_and_figures(reports):
    for r in reports["runs"]:
        assert r.returncode == 0, r.stderr
        assert r.stdout.startswith("wrote ")
    text = reports["factorial"].read_text()
    for section in ("Experiment", "Main effects", "Figures", "Sensitivity indices", "Outcome quality", "Errors"):
        assert section in text
    assert "trust.initial" in text and "tiny-factorial" in text and "No run failed" in text
    assert "Trust network of Wigan" in text
    assert "http://" not in text and "https://" not in text  # nothing to fetch
    names = {p.name for p in reports["figures"].iterdir()}
    for stem in (
        "trust-network",
        "negotiation-dance",
        "heatmap-agreement_rate",
        "heatmap-plan_realism_mean",
        "heatmap-realised_emergency_admissions_change",
        "areas-overview",
        "response-plans_agreed",
    ):
        assert f"{stem}.png" in names and f"{stem}.svg" in names, stem
    sobol = reports["sobol"].read_text()
    assert "sensitivity-trust_mean_end" in sobol


def test_report_bad_input_is_one_line(sweeps):
    r = _bettercare("report", str(sweeps["tmp"] / "nothing"))
    assert r.returncode == 2 and r.stderr.startswith("error: ") and "Traceback" not in r.stderr
    r = _bettercare("report", str(sweeps["factorial"]), "--area", "Atlantis", "--out", str(sweeps["tmp"] / "x.html"))
    assert r.returncode == 2 and "no area 'Atlantis'" in r.stderr


def _why_not() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} is missing (apt-get install -y chromium)"
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[test]')"
    return None


@pytest.mark.slow
def test_report_renders_in_headless_chromium_offline(reports):
    why = _why_not()
    if why:
        if os.environ.get("CI"):
            pytest.fail(f"the report's browser test cannot run in CI: {why}")
        pytest.skip(why)
    from playwright.sync_api import sync_playwright

    pages = [reports["factorial"], reports["sobol"]]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            context = browser.new_context()
            outside: list[str] = []

            def guard(route):
                url = route.request.url
                if url.startswith(("file:", "data:")):
                    route.continue_()
                else:
                    outside.append(url)
                    route.abort()

            context.route("**/*", guard)
            for html_file in pages:
                page = context.new_page()
                page.goto(html_file.as_uri(), wait_until="load")
                page.wait_for_function("Array.from(document.images).every(i => i.complete)", timeout=30_000)
                images = page.evaluate("Array.from(document.images).map(i => [i.alt, i.naturalWidth, i.naturalHeight])")
                assert len(images) >= 3, images
                for alt, w, h in images:
                    assert w > 0 and h > 0, f"figure {alt!r} did not load"
                svgs = page.evaluate(
                    "Array.from(document.querySelectorAll('svg')).map(s => s.getBoundingClientRect().width)"
                )
                assert all(w > 0 for w in svgs)
                assert page.locator("h2#effects").count() == 1
                page.close()
            assert outside == []
        finally:
            browser.close()


def test_figures_save_png_and_svg(sweeps, tmp_path):
    from bettercare import analysis
    from bettercare.analysis import plots

    data = analysis.load(sweeps["factorial"])
    fig = plots.response_curve(data.national, "trust.initial", "plans_agreed", by="deadline.weeks")
    paths = plots.save(fig, tmp_path / "curve")
    assert [p.suffix for p in paths] == [".png", ".svg"] and all(p.stat().st_size > 1000 for p in paths)
    assert "<svg" in paths[1].read_text()[:2000]


def test_replay_reproduces_a_run_and_traces_its_area(sweeps):
    from bettercare import analysis
    from bettercare.analysis.trace import replay

    data = analysis.load(sweeps["factorial"])
    row = data.national.iloc[5]
    tr = replay(sweeps["factorial"], run_id=int(row.run_id), area="Kent")
    assert tr.national["plans_agreed"] == row.plans_agreed
    assert tr.national["pool_total_gbp"] == pytest.approx(row.pool_total_gbp)
    assert tr.area_name == "Kent" and tr.overrides["trust.initial"] == row["trust.initial"]
    n = len(tr.members)
    assert tr.trust_start.shape == (n, n)
    off = ~pd.DataFrame(np.eye(n, dtype=bool), index=tr.trust_start.index, columns=tr.trust_start.columns)
    assert np.allclose(tr.trust_start.to_numpy()[off.to_numpy()], row["trust.initial"])
    assert not np.allclose(tr.trust_end.to_numpy(), tr.trust_start.to_numpy())
    g = tr.graph("end")
    assert g.number_of_nodes() == n and g.number_of_edges() == n * (n - 1)
    assert set(tr.offers.area_code) == {tr.area_code} and set(tr.offers.org_code) <= set(tr.members.org_code)


def test_single_run_trust_picks_a_readable_area():
    from bettercare import analysis

    tr = analysis.single_run_trust(
        "england-2014", seed=2, area="auto", overrides={"areas.names": ["Wigan", "Rutland", "Kent"]}
    )
    assert len(tr.members) <= 6 and not tr.offers.empty


def test_the_template_renders_every_section_escaped_and_self_contained(sweeps):
    """The page comes from the Jinja2 template (package data): every section and every branch of it
    renders, values are escaped, styles are inline, nothing points to a network."""
    from bettercare.analysis import report

    rep = report.build(sweeps["factorial"], replay_run=False)
    rep.notes.append("<script>alert(1)</script>")
    real = report.render(rep)
    ctx = report.context(rep)
    table = report._table(pd.DataFrame({"value": [1.5], "label": ["<x>"]}))
    ctx.update(
        sensitivity=table,
        quality_summary=table,
        quality_effects=table,
        errors={"count": 1, "table": table, "tracebacks": [(7, "Trace <here>")]},
    )
    filled = report._template().render(**ctx)
    for page in (real, filled):
        for id_, title in report.SECTIONS:
            assert f"<h2 id='{id_}'>" in page and f"<a href='#{id_}'>{title}</a>" in page, id_
        assert "{{" not in page and "{%" not in page
        assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
        assert "<style>" in page and "border-collapse:collapse" in page  # the style sheet, inline
        assert page.count("<figure") == page.count("src='data:image/png;base64,") == len(rep.figures) > 0
        assert "http://" not in page and "https://" not in page
        assert "<td>master seed</td><td>5</td>" in page
    assert "No run failed." in real and "trust.initial" in real and '<td class="num">' in real
    assert "Sensitivity indices need a Sobol' or Morris design (this sweep: factorial)" in real
    assert "1 run(s) failed." in filled and "traceback of run 7" in filled and "Trace &lt;here&gt;" in filled
    assert "<td>&lt;x&gt;</td>" in filled and '<td class="num">1.5</td>' in filled
