"""Tidy tables and national fields from a finished model, as the output registry declares them
(bettercare/model/outputs.py; units and meanings in docs/outputs.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from bettercare.vocabulary.plan import LINE_NAMES, Slot, spend_shares
from bettercare.vocabulary.status import Status

from .flow import BOTH, NHS, SOCIAL_CARE
from .outputs import TABLES
from .quality import tables_quality
from .trust import CENTRE


@dataclass
class RunResult:
    """What one run returns: national fields, and tidy tables for deeper work."""

    seed: int | None
    scenario: str
    params: dict[str, Any]
    national: dict[str, float]
    areas: pd.DataFrame
    organisations: pd.DataFrame
    offers: pd.DataFrame
    timeseries: pd.DataFrame
    model_series: pd.DataFrame = field(repr=False, default_factory=pd.DataFrame)

    def tables(self) -> dict[str, pd.DataFrame]:
        national = pd.DataFrame([self.national])
        return {
            "national": national,
            "areas": self.areas,
            "organisations": self.organisations,
            "offers": self.offers,
            "timeseries": self.timeseries,
        }


# The tables `collect` builds on request; the national fields it always returns.
ROW_TABLES = tuple(t for t in TABLES if t != "national")


def collect(
    model, tables: tuple[str, ...] | list[str] = ROW_TABLES
) -> tuple[dict[str, float], dict[str, pd.DataFrame]]:
    """National fields, and the tidy tables named in `tables` (a sweep builds only those it keeps).

    Fields and columns come in the order the output registry declares (bettercare/model/outputs.py).
    """
    unknown = set(tables) - set(ROW_TABLES)
    if unknown:
        raise ValueError(f"unknown tables {sorted(unknown)}; choose from {list(ROW_TABLES)}")
    p = model.params
    d = model.delivery
    plans = d.plans
    M = model.minimum_gbp
    pool_rel = 1 + plans[:, Slot.COUNCIL_TOPUP] + plans[:, Slot.CCG_TOPUP]
    spend = spend_shares(plans) * M[:, None]
    verdict = np.array([str(s) for s in model.status], dtype=object)
    imposed = np.array([t.imposed for t in model.tables])
    claimed = plans[:, Slot.AMBITION] * model.admissions * p.costs.admission_gbp
    assured = np.array(
        [model.reviews[a].assured_gbp if a in model.reviews and not imposed[a] else 0.0 for a in range(model.n_areas)]
    )
    realism = np.array(
        [model.reviews[a].ratio if a in model.reviews and not imposed[a] else np.nan for a in range(model.n_areas)]
    )
    realised_adm = d.admissions_change()
    realised_dtoc = d.delayed_days_change()
    realised_savings = d.realised_savings()
    planned_dtoc = -d.planned_dtoc_cut * d.months_done / 12
    survey = pd.DataFrame(model.survey, columns=["area", "org_code", "kind", "improved"])
    improved_by_area = survey.groupby("area")["improved"].mean().reindex(range(model.n_areas)).to_numpy(float)

    codes = model.acute_share[0]
    trusts = [model.orgs[c] for c in codes]  # books closed by AcuteTrust.close_year
    inc0 = np.array([o.income for o in trusts])
    cost0 = np.array([o.costs for o in trusts])
    inc1 = np.array([o.income_end for o in trusts])
    cost1 = np.array([o.costs_end for o in trusts])
    trust_centre = model.trust.mean_towards_centre()
    n = model.n_areas
    agreed = ~imposed

    def total(x):
        return float(np.sum(x))

    national = {
        "areas": n,
        "plans_agreed": int(agreed.sum()),
        "plans_approved": int((verdict == Status.APPROVED).sum()),
        "plans_approved_with_conditions": int((verdict == Status.CONDITIONS).sum()),
        "plans_imposed": int(imposed.sum()),
        "weeks_to_agreement_mean": float(np.nanmean(model.first_agreed_week))
        if np.isfinite(model.first_agreed_week).any()
        else float("nan"),
        "signed_off_first_6_weeks": int((model.signed_off_week < model.w2 + 6).sum()),
        **{
            f"first_review_{name}": sum(r.verdict == v for r in model.first_review.values())
            for name, v in (
                ("approved", Status.APPROVED),
                ("conditions", Status.CONDITIONS),
                ("not_approved", Status.NOT_APPROVED),
            )
        },
        "plans_returned": int(model.returns.sum()),
        "pool_minimum_gbp": total(M),
        "pool_total_gbp": total(M * pool_rel),
        "areas_topping_up": int((pool_rel > 1 + 1e-9).sum()),
        "topup_council_gbp": total(M * plans[:, Slot.COUNCIL_TOPUP]),
        "topup_ccg_gbp": total(M * plans[:, Slot.CCG_TOPUP]),
        **{f"spend_{name}_gbp": total(spend[:, i]) for i, name in enumerate(LINE_NAMES)},
        "first_round_planned_savings_gbp": total([r.claimed_gbp for r in model.first_round.values()]),
        "first_round_assured_savings_gbp": total([r.assured_gbp for r in model.first_round.values()]),
        "planned_savings_gbp": total(claimed),
        "assured_savings_gbp": total(assured),
        "realised_savings_gbp": total(realised_savings),
        "ambition_mean": float(np.average(plans[:, Slot.AMBITION], weights=model.admissions)),
        "plan_realism_mean": float(np.nanmean(realism)) if np.isfinite(realism).any() else float("nan"),
        "planned_emergency_admissions_change": total(-plans[:, Slot.AMBITION] * model.admissions * d.months_done / 12),
        "emergency_admissions": total(d.admissions),
        "realised_emergency_admissions_change": total(realised_adm),
        "emergency_admissions_effect": total(d.admissions_effect()),
        "planned_dtoc_days_change": total(planned_dtoc),
        "delayed_days_nhs": total(d.delayed_days[:, NHS]),
        "delayed_days_social_care": total(d.delayed_days[:, SOCIAL_CARE]),
        "delayed_days_both": total(d.delayed_days[:, BOTH]),
        "realised_dtoc_days_change": total(realised_dtoc),
        "dtoc_days_effect": total(d.delayed_days_effect()),
        "care_home_admissions_2a2_effect_pct": float(100 * (d.care_home.sum() / d.care_home_cf.sum() - 1)),
        "reablement_2b1_trend_change_points": d.ascof_2b1_trend_change(),
        "performance_money_released_gbp": total(d.released),
        "performance_money_withheld_gbp": total(d.withheld),
        "acute_trusts_in_deficit_share_start": float(np.mean(inc0 < cost0)),
        "acute_trusts_in_deficit_share_end": float(np.mean(inc1 < cost1)),
        "acute_net_deficit_gbp_end": total(cost1 - inc1),
        "trust_mean_start": float(model.trust_start),
        "trust_mean_end": float(model.trust.mean()),
        "trust_in_centre_mean_end": float(trust_centre),
        "partners_joint_working_improved_share": float(survey["improved"].mean()) if len(survey) else float("nan"),
        "integration_index_mean": float(np.mean(model.maturity)),
    }

    af = model.area_frame
    out: dict[str, pd.DataFrame] = {}
    if "areas" in tables:
        out["areas"] = _areas(
            model,
            af,
            verdict,
            M,
            pool_rel,
            plans,
            spend,
            claimed,
            assured,
            realised_savings,
            realism,
            realised_adm,
            planned_dtoc,
            realised_dtoc,
            improved_by_area,
        )
    if "organisations" in tables:
        out["organisations"] = _organisations(model, codes, inc1, cost1)
    if "offers" in tables:
        if not model.record_offers:
            raise ValueError("the offers table needs a model made with record_offers=True")
        out["offers"] = _offers(model, af)
    if "timeseries" in tables:
        out["timeseries"] = _timeseries(model, af)
    return national, {name: out[name] for name in ROW_TABLES if name in out}


def _areas(
    model,
    af,
    verdict,
    M,
    pool_rel,
    plans,
    spend,
    claimed,
    assured,
    realised_savings,
    realism,
    realised_adm,
    planned_dtoc,
    realised_dtoc,
    improved_by_area,
) -> pd.DataFrame:
    d = model.delivery
    return pd.DataFrame(
        {
            "area_code": af.area_code,
            "area_name": af.area_name,
            "population": af.population,
            "coterminous": af.coterminous,
            "acute_at_table": model.acute_at_table,
            "parties": [t.n for t in model.tables],
            "first_agreed_week": model.first_agreed_week,
            "signed_off_week": model.signed_off_week,
            "verdict": verdict.astype(str),
            "reviews": model.review_count,
            "pool_minimum_gbp": M,
            "pool_total_gbp": M * pool_rel,
            "topup_council_gbp": M * plans[:, Slot.COUNCIL_TOPUP],
            "topup_ccg_gbp": M * plans[:, Slot.CCG_TOPUP],
            **{f"spend_{name}_gbp": spend[:, i] for i, name in enumerate(LINE_NAMES)},
            "ambition": plans[:, Slot.AMBITION],
            "planned_savings_gbp": claimed,
            "assured_savings_gbp": assured,
            "realised_savings_gbp": realised_savings,
            "plan_realism": realism,
            "true_return": model.true_return,
            "planned_emergency_admissions_change": -plans[:, Slot.AMBITION] * model.admissions * d.months_done / 12,
            "realised_emergency_admissions_change": realised_adm,
            "emergency_admissions_effect": d.admissions_effect(),
            "planned_dtoc_days_change": planned_dtoc,
            "realised_dtoc_days_change": realised_dtoc,
            "dtoc_days_effect": d.delayed_days_effect(),
            "care_home_admissions_2a2_effect_pct": 100 * d.care_home_relative_change(),
            "performance_money_released_gbp": d.released,
            "performance_money_withheld_gbp": d.withheld,
            "diverted_gbp": d.diverted,
            "additional_gbp": d.additional_gbp,
            "acute_defensiveness": model.defensiveness,
            "trust_start": model.area_trust_start,
            "trust_end": model.area_trust,
            "maturity_start": model.maturity_start,
            "maturity_end": model.maturity,
            "joint_working_improved_share": improved_by_area,
            **tables_quality(model.tables),
        }
    )


def _organisations(model, codes, inc1, cost1) -> pd.DataFrame:
    edges = model.trust.edges()
    to_centre = edges[edges.target == CENTRE].set_index("source")["trust"]
    local = edges[(edges.source != CENTRE) & (edges.target != CENTRE)]
    out_mean = local.groupby("source")["trust"].mean()
    in_mean = local.groupby("target")["trust"].mean()
    rows = []
    in_deficit_end = dict(zip(codes, inc1 < cost1))
    margin_end = dict(zip(codes, (inc1 - cost1) / np.maximum(inc1, 1.0)))
    n_tables = model.geography.members.groupby("org_code")["area_code"].nunique()
    for code, o in model.orgs.items():
        rows.append(
            {
                "org_code": code,
                "org_name": o.name,
                "kind": o.kind,
                "population": o.population,
                "areas": int(n_tables.get(code, 0)),
                "beta": o.beta,
                "holdout": o.holdout,
                "trust_out_mean": float(out_mean.get(code, np.nan)),
                "trust_in_mean": float(in_mean.get(code, np.nan)),
                "trust_in_centre": float(to_centre[code]),
                "margin_start": getattr(o, "margin", np.nan),
                "margin_end": margin_end.get(code, np.nan),
                "in_deficit_end": bool(in_deficit_end[code]) if code in in_deficit_end else None,
            }
        )
    return pd.DataFrame(rows)


def _offers(model, af) -> pd.DataFrame:
    offers = pd.DataFrame(
        model._offers,
        columns=[
            "offer_id",
            "area",
            "phase",
            "week",
            "round",
            "proposer",
            "candidate",
            *[s.name.lower() for s in Slot],
        ],
    )
    responses = pd.DataFrame(
        model._responses, columns=["offer_id", "org_code", "kind", "utility", "reservation", "target", "response"]
    )
    offers = responses.merge(offers, on="offer_id", how="left")
    offers.insert(1, "area_code", af.area_code.to_numpy()[offers.pop("area").to_numpy()] if len(offers) else [])
    return offers


def _timeseries(model, af) -> pd.DataFrame:
    ts = pd.DataFrame(
        model._series,
        columns=[
            "area",
            "month",
            "admissions",
            "counterfactual_admissions",
            "dtoc_days",
            "dtoc_days_nhs",
            "dtoc_days_social_care",
            "dtoc_days_both",
            "counterfactual_dtoc_days",
            "care_home_admissions_65",
            "maturity",
            "trust_mean",
        ],
    )
    ts.insert(0, "area_code", af.area_code.to_numpy()[ts.pop("area").to_numpy()] if len(ts) else [])
    return ts
