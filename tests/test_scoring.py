"""The registered predictions' scoring rule (sign, 90% coverage, CRPS) on ensembles with known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bettercare.analysis.scoring import score, summary


def test_crps_sign_and_coverage_match_the_normal_case():
    rng = np.random.default_rng(0)
    ensemble = pd.DataFrame({"a": rng.normal(1.0, 1.0, 20_000), "b": rng.normal(-5.0, 0.5, 20_000)})
    table = score(ensemble, {"a": 1.0, "b": 2.0}).set_index("outcome")
    # CRPS of N(mu, 1) at y = mu is 2 phi(0) - 1 / sqrt(pi) = 0.2337
    assert table.loc["a", "crps"] == pytest.approx(0.2337, abs=0.01)
    assert table.loc["a", "sign_right"] and table.loc["a", "covered90"]
    assert not table.loc["b", "sign_right"] and not table.loc["b", "covered90"]
    assert table.loc["b", "crps"] > 6.5  # about |y - mu| when the ensemble is far and narrow


def test_summary_gives_the_probability_of_a_rise():
    ensemble = pd.DataFrame({"x": np.r_[-np.ones(30), np.ones(70)]})
    row = summary(ensemble, ["x"]).iloc[0]
    assert row.p_above_zero == pytest.approx(0.7) and row.n == 100 and row["median"] == 1.0


def test_every_registered_file_still_has_its_ledger_hash():
    """A registration is a promise: the file scored later must be byte for byte the one hashed then."""
    import hashlib
    from pathlib import Path

    docs = Path(__file__).resolve().parents[1] / "docs"
    ledger = pd.read_csv(docs / "predictions-registered.csv")
    assert len(ledger) >= 2 and ledger["file"].is_unique
    for row in ledger.itertuples():
        assert hashlib.sha256((docs / row.file).read_bytes()).hexdigest() == row.sha256, row.file
        assert f"`docs/{row.file}`" in (docs / "validation.md").read_text(), f"{row.file} not listed in validation.md"


def test_every_registration_can_be_traced_to_its_posterior():
    """The posterior a registration was drawn from is the shipped one or kept in docs/posteriors/,
    so its particles can be checked against the ledger's SHA-256 after a better one replaces it."""
    import hashlib
    from pathlib import Path

    from bettercare.model import posterior

    docs = Path(__file__).resolve().parents[1] / "docs"
    ledger = pd.read_csv(docs / "predictions-registered.csv")
    kept = {hashlib.sha256(p.read_bytes()).hexdigest() for p in (docs / "posteriors").glob("*.parquet")}
    kept.add(posterior.digest())
    for row in ledger.itertuples():
        assert row.posterior_sha256 in kept, f"{row.file}: its posterior {row.posterior_sha256[:16]} is not kept"
