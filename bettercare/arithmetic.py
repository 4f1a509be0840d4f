"""The same floating-point arithmetic on every x86-64 machine, so that one seed gives one set of numbers.

numpy chooses its SIMD kernels, and OpenBLAS its matrix kernel, from the CPU it finds when numpy
is imported. The AVX-512 kernels round differently in the last bits from the AVX2 ones. On the
first AVX-512 machine this project met (2026-12-03, an AMD EPYC), every golden run moved by
1e-16 to 5e-12 relative (no decision, count or week changed), and the bit-for-bit tests failed.
Holding both libraries to the AVX2 level (x86-64-v3) gives the same bits on any x86-64 machine
with AVX2. It costs the AVX-512 speed-up. For this model (small arrays in many calls) none
showed: national runs had medians of 0.36 s and 0.30 s pinned, and 0.34 s and 0.31 s not
pinned, over two alternating processes of 7 runs each (2026-12-04).

`pin()` runs when `bettercare` is imported. It works only in a process where numpy is not yet
imported: the command line, the sweep's worker processes and the tests are such processes. In a
notebook that imported numpy first, or on a Dask worker on another machine, set the two variables
in the environment instead (`environment()` gives them). `state()` says what the process really
uses; every manifest records it.
"""

from __future__ import annotations

import functools
import os
import sys
from typing import Any

# numpy >= 2.4 names its dispatch targets X86_V3 (AVX2, FMA), X86_V4 and AVX512_* (AVX-512).
NUMPY_OFF = "X86_V4 AVX512_ICL AVX512_SPR"
OPENBLAS_CORE = "Haswell"  # OpenBLAS's AVX2 kernel

pinned_before_numpy: bool | None = None  # set by pin(): was numpy still unimported?


@functools.cache  # the CPU does not change; a manifest asks at every write
def _cpu_has_avx512() -> bool:
    """Whether this CPU would get OpenBLAS's AVX-512 kernel (Linux; elsewhere, assume not).

    OpenBLAS is only told to use its AVX2 kernel where AVX-512 exists: forced on a CPU without
    AVX2 it would stop at the first illegal instruction."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("flags"):
                    return "avx512f" in line.split()
    except OSError:
        pass
    return False


def environment() -> dict[str, str]:
    """The environment variables that hold numpy and OpenBLAS to the AVX2 level on this machine."""
    env = {"NPY_DISABLE_CPU_FEATURES": NUMPY_OFF}
    if _cpu_has_avx512():
        env["OPENBLAS_CORETYPE"] = OPENBLAS_CORE
    return env


def pin() -> None:
    """Set the variables (unless the user set them) while numpy is still unimported."""
    global pinned_before_numpy
    if pinned_before_numpy is not None:
        return
    pinned_before_numpy = "numpy" not in sys.modules
    if pinned_before_numpy:
        for name, value in environment().items():
            os.environ.setdefault(name, value)


def state() -> dict[str, Any]:
    """What this process computes with: numpy's SIMD targets in use, the OpenBLAS kernel asked
    for, and whether the pin came before numpy. `same_as_golden` is True when the arithmetic is
    the AVX2 level the golden runs were recorded at."""
    try:
        from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__  # noqa: PLC0415 (after pin)
    except ImportError:  # another numpy layout: say so rather than guess
        simd = None
    else:
        simd = [t for t in __cpu_dispatch__ if __cpu_features__.get(t)]
    wide = simd is None or any(t == "X86_V4" or t.startswith("AVX512") for t in simd)
    blas = os.environ.get("OPENBLAS_CORETYPE")
    return {
        "numpy_simd": simd,
        "openblas_coretype": blas,
        "pinned_before_numpy": pinned_before_numpy,
        "same_as_golden": not wide and (blas == OPENBLAS_CORE or not _cpu_has_avx512()),
    }
