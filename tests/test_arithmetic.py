"""The pinned arithmetic (bettercare/arithmetic.py): the same bits on every x86-64 machine."""

from __future__ import annotations

import json
import subprocess
import sys

from bettercare import arithmetic
from bettercare.experiments.manifest import manifest


def test_the_test_process_computes_as_the_golden_runs_were_recorded():
    s = arithmetic.state()
    assert s["pinned_before_numpy"] is True, "something imported numpy before bettercare"
    assert s["same_as_golden"], s
    assert manifest("england-2014", {}, [1])["arithmetic"] == s


def test_a_process_that_imported_numpy_first_is_told_apart():
    code = "import numpy, json; from bettercare import arithmetic; print(json.dumps(arithmetic.state()))"
    env = {k: v for k, v in __import__("os").environ.items() if k not in arithmetic.environment()}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    s = json.loads(out.stdout)
    assert s["pinned_before_numpy"] is False
    if arithmetic._cpu_has_avx512():  # only there do the kernels differ
        assert not s["same_as_golden"] and "X86_V4" in s["numpy_simd"]


def test_a_process_that_imports_bettercare_first_is_pinned_and_leaves_the_users_own_setting():
    code = "import os, json, bettercare, numpy; from bettercare import arithmetic; print(json.dumps([arithmetic.state(), os.environ['NPY_DISABLE_CPU_FEATURES']]))"
    env = {k: v for k, v in __import__("os").environ.items() if k not in arithmetic.environment()}
    s, _ = json.loads(
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout
    )
    assert s["pinned_before_numpy"] is True and s["same_as_golden"]
    env["NPY_DISABLE_CPU_FEATURES"] = "AVX512_SPR"
    _, value = json.loads(
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout
    )
    assert value == "AVX512_SPR"
