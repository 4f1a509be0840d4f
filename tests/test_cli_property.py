"""Property: whatever arguments a user types, `bettercare` never shows a traceback. Every failure
is exactly one `error:` line on stderr and exit code 2 (issue 16).

Hypothesis draws argument lists for `run`, `sweep`, `report`, `params` and `validate` from
values a user might type: good and bad numbers, unknown options, missing, unreadable and
unwritable paths, broken TOML. The commands run in this process through Typer's CliRunner (the
same `bettercare` app as the console script, with its own error handling), so 500 examples take
well under two minutes; the tests in test_cli_robustness.py and test_cli.py run the same
failures as real subprocesses. Arguments that would start work are kept cheap: runs are of one
area, sweeps have two runs in this process, and validate always gets at least one bad value
(a valid validate runs the whole country).
"""

from __future__ import annotations

import os
import textwrap
import traceback
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from bettercare.cli import app
from bettercare.experiments.runner import run_sweep
from bettercare.experiments.spec import load_spec

EXAMPLES = int(os.environ.get("BETTERCARE_CLI_EXAMPLES", "500"))
WIGAN = 'areas.names=["Wigan"]'
INTS = st.one_of(st.integers(-3, 3), st.sampled_from([2**31, 2**63 - 1, 2**63, 10**20, 1_000_000, 1_000_001]))
JUNK = st.sampled_from(
    [
        "",
        "-",
        "--",
        "x",
        "nan",
        "inf",
        "-inf",
        "1e400",
        "0x10",
        "1.5",
        " 2",
        "é",
        "[",
        "=",
        "--bogus",
        "-z",
        "--json=yes",
        "--seed",
        "--out",
    ]
)


def number() -> st.SearchStrategy[str]:
    return st.one_of(INTS.map(str), JUNK)


@pytest.fixture(scope="module")
def place(tmp_path_factory):
    """A working directory with the files the arguments point at."""
    d = tmp_path_factory.mktemp("cli-property")
    (d / "a-file").write_text("not a directory")
    (d / "full").mkdir()
    (d / "full" / "something").write_text("x")
    (d / "empty").mkdir()
    (d / "binary.toml").write_bytes(b"\xff\xfe\x00garbage")
    (d / "broken.toml").write_text("[scenario\nname = \n")
    (d / "bad-value.toml").write_text("[trust]\ninitial = 7\n")
    (d / "bad-base.toml").write_text('[scenario]\nbase = "england-2099"\n')
    (d / "flat-key.toml").write_text("initial = 0.3\n")
    (d / "good.toml").write_text('[scenario]\nname = "good"\n[trust]\ninitial = 0.7\n[areas]\nnames = ["Wigan"]\n')
    tiny = textwrap.dedent("""\
        [experiment]
        name = "tiny"
        replicates = 1
        seed = 7
        [parameters]
        "trust.initial" = [0.2, 0.8]
        [fixed]
        "areas.names" = ["Wigan"]
        [outputs]
        tables = ["national"]
        [quick]
        replicates = 1
        [quick.parameters]
        "trust.initial" = [0.5]
        """)
    (d / "tiny.toml").write_text(tiny)
    (d / "unknown-param.toml").write_text(tiny.replace('"trust.initial" = [0.2, 0.8]', '"trust.nope" = [1, 2]'))
    (d / "bad-level.toml").write_text(tiny.replace("[0.2, 0.8]", "[0.2, 1.8]"))
    (d / "not-spec.toml").write_text("[experiment\n")
    (d / "empty-selection.toml").write_text(tiny.replace('["Wigan"]', '["Atlantis"]'))
    assert run_sweep(load_spec(d / "tiny.toml"), d / "swept", workers=0, log=lambda _: None).exit_code == 0
    (d / "no-manifest").mkdir()
    (d / "no-manifest" / "national").mkdir()
    old = Path.cwd()
    os.chdir(d)  # sweeps without --out write to ./sweeps/NAME here, never in the repository
    yield d
    os.chdir(old)


PATHS_IN = [
    "nosuch.toml",
    "a-file",
    "empty",
    "full",
    "binary.toml",
    "broken.toml",
    "bad-value.toml",
    "bad-base.toml",
    "flat-key.toml",
    "good.toml",
    "",
    "/proc/x/nothing",
]
BAD_OUTS = ["a-file", "a-file/sub", "full", "/proc/x/out", "/sys/kernel/bc-out", "swept/national"]


def fresh_dir() -> st.SearchStrategy[str]:
    return st.integers(0, 10**9).map(lambda i: f"new/out-{i}")


@st.composite
def run_args(draw) -> list[str]:
    args = ["run", "--set", WIGAN]  # one area: a valid run takes a fraction of a second
    options = st.sampled_from(
        [
            ("--seed", number()),
            ("-r", st.one_of(st.integers(-2, 2).map(str), JUNK, st.just("100000000000000000000"))),
            ("--replicates", st.sampled_from(["0", "-1", "1000001", "1", "2", "two"])),
            (
                "--set",
                st.sampled_from(
                    [
                        "trust.initial=1.7",
                        "trust.initial=0.3",
                        "nosuch.param=1",
                        "trust.initial",
                        "=",
                        "=1",
                        "deadline.weeks=0",
                        "deadline.weeks=2.5",
                        "negotiation.holdout=nobody",
                        'areas.names=["Atlantis"]',
                        "areas.names=Wigan",
                        "areas.coterminous_only=true",
                        "trust=1",
                        "trust.initial.deep=1",
                        "money.minimum_gbp=-1",
                        "pause.enabled=maybe",
                        "trust.initial=[1, 2]",
                        "trust.initial=nan",
                        "trust.initial=inf",
                    ]
                ),
            ),
            ("--scenario", st.sampled_from(["high-trust", "nosuch", "", "hospitals-out", "good.toml", "../x"])),
            ("-c", st.sampled_from(PATHS_IN)),
            ("--config", st.sampled_from(PATHS_IN)),
            ("--out", st.one_of(st.sampled_from(BAD_OUTS), fresh_dir())),
            ("--json", None),
            ("--bogus", None),
            ("-x", None),
        ]
    )
    for name, values in draw(st.lists(options, max_size=4)):
        args.append(name)
        if values is not None:
            args.append(draw(values))
    return args


@st.composite
def sweep_args(draw) -> list[str]:
    spec = draw(
        st.sampled_from(
            [
                "tiny.toml",
                "unknown-param.toml",
                "bad-level.toml",
                "not-spec.toml",
                "nosuch",
                "nosuch.toml",
                "a-file",
                "empty",
                "empty-selection.toml",
                "h1-trust",
                "h2-holdout",
                None,
            ]
        )
    )
    args = ["sweep"] + ([] if spec is None else [spec])
    if spec in ("h1-trust", "h2-holdout"):  # a catalog sweep would run for minutes: give it a bad --out
        args += ["--out", draw(st.sampled_from(BAD_OUTS))]
    options = st.sampled_from(
        [
            ("--out", st.one_of(st.sampled_from([*BAD_OUTS, "swept", "no-manifest", "empty"]), fresh_dir())),
            ("--workers", st.sampled_from(["0", "-1", "x", "", "0"])),
            ("-w", st.just("0")),
            ("--scheduler", st.sampled_from(["bogus", "x.json", "a-file", "", "tcp://", "host:port"])),
            ("--resume", None),
            ("--retry-failed", None),
            ("--quick", None),
            ("--list", None),
            ("--bogus", None),
        ]
    )
    for name, values in draw(st.lists(options, max_size=4)):
        args.append(name)
        if values is not None:
            args.append(draw(values))
    if spec == "tiny.toml" and "--workers" not in args and "-w" not in args:
        args += ["--workers", "0"]  # in this process: no worker pool per example
    return args


@st.composite
def report_args(draw) -> list[str]:
    target = draw(st.sampled_from(["swept", "nosuch", "a-file", "empty", "no-manifest", "", "/proc/x"]))
    args = ["report", target]
    options = st.sampled_from(
        [
            (
                "--out",
                st.sampled_from(["/sys/kernel/rep.html", "a-file/r.html", "empty", "/proc/x/r.html", "new/r.html"]),
            ),
            ("--area", st.sampled_from(["Atlantis", "", "auto", "Wigan", "E08000010"])),
            ("--run", number()),
            ("--interval", st.sampled_from(["t", "bootstrap", "wald", ""])),
            ("--figures", st.sampled_from(["/proc/x/figs", "a-file"])),
            ("--bogus", None),
        ]
    )
    for name, values in draw(st.lists(options, max_size=4)):
        args.append(name)
        if values is not None:
            args.append(draw(values))
    if target == "swept" and not any(
        a in args
        for a in (
            "/sys/kernel/rep.html",
            "a-file/r.html",
            "empty",
            "/proc/x/r.html",
            "/proc/x/figs",
            "a-file",
            "--bogus",
        )
    ):
        args += ["--area", "Atlantis"]  # a whole report takes seconds: keep it to the checks
    return args


@st.composite
def params_args(draw) -> list[str]:
    args = ["params"]
    options = st.sampled_from(
        [
            ("--scenario", st.sampled_from(["england-2014", "high-trust", "nosuch", "", *PATHS_IN])),
            ("-s", st.sampled_from(PATHS_IN)),
            ("--json", None),
            ("--bogus", None),
            ("--scenario", JUNK),
        ]
    )
    for name, values in draw(st.lists(options, max_size=3)):
        args.append(name)
        if values is not None:
            args.append(draw(values))
    return args


@st.composite
def validate_args(draw) -> list[str]:
    bad = draw(
        st.sampled_from(
            [
                ["--replicates", "0"],
                ["-r", "-4"],
                ["--replicates", "1000001"],
                ["--replicates", "x"],
                ["--seed", "-1"],
                ["--seed", str(2**63)],
                ["--seed", "1.5"],
                ["--workers", "0"],
                ["--workers", "-2"],
                ["--workers", "many"],
                ["--bogus"],
                ["extra-argument"],
                ["--json=1"],
            ]
        )
    )
    others = draw(st.lists(st.sampled_from([["--json"], ["--seed", "3"], ["-r", "2"], ["--workers", "1"]]), max_size=2))
    args = [a for part in [*others, bad] for a in part]
    return ["validate", *args]


ARGS = st.one_of(run_args(), sweep_args(), report_args(), params_args(), validate_args())


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(args=ARGS)
def test_any_arguments_give_a_result_or_one_error_line(place, args):
    result = CliRunner().invoke(app, args, prog_name="bettercare", catch_exceptions=True)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"bettercare {args} raised:\n" + "".join(traceback.format_exception(result.exception)))
    err = result.stderr
    assert "Traceback" not in err, (args, err)
    if result.exit_code == 0:
        assert not [line for line in err.splitlines() if line.startswith("error:")], (args, err)
        return
    assert result.exit_code == 2, (args, result.exit_code, err)
    lines = err.strip().splitlines()
    errors = [line for line in lines if line.startswith("error: ")]
    assert len(errors) == 1 and lines[-1] == errors[0], (args, err)
    others = [line for line in lines[:-1] if not line.startswith(("note: ", "writing to "))]
    assert not others, (args, err)
    assert result.stdout == "", (args, result.stdout[:300])
