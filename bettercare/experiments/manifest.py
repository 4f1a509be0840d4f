"""Provenance for every output directory: what ran, with which code, parameters and seeds.

`manifest()` is shared by `bettercare run --out` and the sweep engine; keep it general.
Only the standard library is imported here, so the command line stays fast.
"""

from __future__ import annotations

import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from bettercare import arithmetic

MANIFEST_SCHEMA = "bettercare.manifest/1"
PACKAGES = ("bettercare", "mesa", "numpy", "pandas", "pyarrow", "pydantic", "networkx")


def utc_now() -> str:
    """The current time, ISO 8601 in UTC with a trailing Z."""
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def package_versions(packages: tuple[str, ...] = PACKAGES) -> dict[str, str | None]:
    """Installed version of each package (None if absent), plus the Python version."""
    out: dict[str, str | None] = {}
    for name in packages:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    out["python"] = platform.python_version()
    return out


def _git(args: list[str], cwd: Path) -> str | None:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def git_state(package_dir: Path | None = None) -> dict[str, Any]:
    """`{"git_revision": sha or None, "git_dirty": bool or None}` for the repo holding the package.

    The revision is only reported if the package's own files are tracked in that repository, so
    an installed copy that happens to sit inside some other checkout reports None. Dirty means
    tracked changes or untracked (not ignored) files anywhere in the work tree.
    """
    if package_dir is None:
        package_dir = Path(__file__).resolve().parent.parent
    none = {"git_revision": None, "git_dirty": None}
    if not package_dir.is_dir():
        return none
    top = _git(["rev-parse", "--show-toplevel"], package_dir)
    if not top:
        return none
    tracked = _git(["ls-files", "--", str(package_dir / "__init__.py")], package_dir)
    if not tracked:
        return none
    rev = _git(["rev-parse", "HEAD"], package_dir)
    if not rev:
        return none
    status = _git(["status", "--porcelain"], Path(top))
    return {"git_revision": rev, "git_dirty": None if status is None else bool(status)}


def jsonable(obj: Any) -> Any:
    """A strict-JSON copy: numpy scalars and arrays to Python, NaN and infinities to None."""
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, int):
        return int(obj)
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, datetime):
        return obj.isoformat()
    item = getattr(obj, "item", None)  # numpy scalar
    if callable(item) and getattr(obj, "shape", None) == ():
        return jsonable(item())
    tolist = getattr(obj, "tolist", None)  # numpy array
    if callable(tolist):
        return jsonable(tolist())
    return str(obj)


def manifest(
    scenario_name: str,
    params: dict[str, Any],
    seeds: list[int],
    extra: dict[str, Any] | None = None,
    *,
    started_utc: str | None = None,
) -> dict[str, Any]:
    """The provenance record of a set of runs.

    `params` is the flat dotted parameter dict (or, for a sweep, whatever describes the design);
    `extra` is merged in last, so callers can add files, run ids, the command line, and so on.
    """
    now = utc_now()
    record: dict[str, Any] = {
        "schema": MANIFEST_SCHEMA,
        "created_utc": now,
        "started_utc": started_utc or now,
        "scenario": scenario_name,
        "seeds": [int(s) for s in seeds],
        "replicates": len(seeds),
        "params": dict(params),
        **git_state(),
        "versions": package_versions(),
        "platform": platform.platform(),
        "arithmetic": arithmetic.state(),
        "command": [Path(sys.argv[0]).name, *sys.argv[1:]] if sys.argv and sys.argv[0] else [],
    }
    if extra:
        record.update(extra)
    return jsonable(record)


def fsync_dir(path: str | os.PathLike) -> None:
    """Make a rename in `path` durable (where the file system allows opening a directory)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextmanager
def atomic_path(path: str | os.PathLike, suffix: str = ".tmp") -> Iterator[Path]:
    """Yield a temporary path in the target's directory; on success it replaces the target.

    Readers never see a half-written file: the final step is one `os.replace`.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # A fresh hidden name beside the target (same file system, so os.replace is atomic); the
    # writer creates it, so the file gets the usual permissions rather than mkstemp's 0600.
    tmp_path = path.parent / f".{path.name}.{uuid.uuid4().hex}{suffix}"
    try:
        yield tmp_path
        os.replace(tmp_path, path)
        fsync_dir(path.parent)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


def write_atomic(path: str | os.PathLike, writer: Callable[[Path], None]) -> Path:
    """Call `writer(tmp_path)` and move the result onto `path` atomically."""
    with atomic_path(path) as tmp:
        writer(tmp)
    return Path(path)


def write_json_atomic(path: str | os.PathLike, obj: Any, indent: int = 2) -> Path:
    """Write `obj` as indented strict JSON (NaN becomes null), atomically, fsynced: the project's
    one atomic JSON writer (manifests, and the store's commit records)."""
    text = json.dumps(jsonable(obj), indent=indent, allow_nan=False) + "\n"

    def _write(tmp: Path) -> None:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())

    return write_atomic(path, _write)


def os_error_text(exc: OSError) -> str:
    """An OSError in a few words for a one-line `error:` message: the reason and the path it hit."""
    reason = exc.strerror or " ".join(str(exc).split()) or type(exc).__name__
    return f"{reason} ('{exc.filename}')" if exc.filename else reason


def unwritable_dir(path: str | Path) -> str | None:
    """Why directory `path` cannot be created or written in (None if it can).

    Creates `path` (and its parents) if needed and writes and removes a probe file, so that a
    command can refuse an unusable output path before it starts any work.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        return "it exists and is not a directory"
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path, prefix=".bettercare-probe-"):
            pass
    except OSError as exc:
        if exc.filename and ".bettercare-probe-" in str(exc.filename):
            exc.filename = str(path)  # name the folder, not the probe file it could not make
        return os_error_text(exc)
    return None


def check_writable_dir(path: str | Path, what: str) -> bool:
    """Create directory `path` if needed and prove that a file can be written in it.

    Raises ValueError with one line for the user, naming `what` (e.g. "--out") and the path,
    when it cannot. Returns whether the directory was created here (so the caller may remove it
    again if it then writes nothing).
    """
    created = not Path(path).exists()
    problem = unwritable_dir(path)
    if problem is not None:
        raise ValueError(f"{what} '{path}' cannot be created or written: {problem}")
    return created
