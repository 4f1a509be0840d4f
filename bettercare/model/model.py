"""BetterCareModel: guidance, planning, the pause, assurance, escalation and delivery.

One step is a week while plans are made and assured, then a month in delivery. Phases follow
the 2014 history by default (docs/ODD.md, "Process overview and scheduling").
"""

from __future__ import annotations

import threading
from typing import Any

import mesa
import numpy as np

from bettercare.agents import KINDS, AcuteTrust, Centre, Organisation, Review
from bettercare.vocabulary.plan import (
    FLOORS,
    LINES,
    Rules,
    Slot,
    candidates,
    features,
    imposed,
    p4p_pot,
    savings_basis,
    spend_shares,
    validate,
)
from bettercare.vocabulary.status import SIGNED_OFF, Phase, Status

from . import areas as geo
from .delivery import Delivery
from .negotiation import Table
from .nulls import fixed_plan_2014
from .scenario import Parameters, ScenarioError, build_parameters, load_scenario
from .trust import CENTRE, TrustNetwork, off_diagonal_mean

ENGLAND_POPULATION = 54_300_000


class BetterCareModel(mesa.Model):
    """All areas of England (or a chosen few, or synthetic ones) under one centre."""

    def __init__(
        self,
        params: Parameters | None = None,
        rng: int | None = None,
        geography: geo.Geography | None = None,
        record_offers: bool = True,
        *,
        scenario: str = "england-2014",
        **overrides: Any,
    ):
        """Build the model from `params`, or else from the preset `scenario` (england-2014, calibrated).

        Dotted parameter names may be given as keyword arguments, the way `mesa.batch_run` passes
        them: `BetterCareModel(**{"trust.initial": 0.8}, rng=1)`. They override `params` or the
        scenario, with the same validation as `--set`. `record_offers=False` keeps no offer log
        (the `offers` table), which a sweep that does not ask for that table skips; the run itself
        is the same.
        """
        super().__init__(rng=rng)
        if params is None:
            params = load_scenario(scenario, overrides).params
        elif overrides:
            params = build_parameters(params, overrides)
        self.record_offers = record_offers
        self.params = p = params
        if geography is None:
            if p.areas.source == "england":
                geography = geo.england(p.areas.min_ccg_share, p.acute.population_per_trust)
            else:
                geography = geo.synthetic(p.areas.synthetic_n, self.rng, p.acute.population_per_trust)
        geography = geo.select(geography, p.areas.names, p.areas.coterminous_only)
        if len(geography.areas) == 0:
            raise ScenarioError("the area selection is empty: no area matches areas.names / areas.coterminous_only")
        self.geography = geography
        self.area_frame = geography.areas
        pop = geography.areas["population"].to_numpy(float)
        self.n_areas = len(pop)
        self.minimum_gbp = p.money.minimum_gbp * pop / ENGLAND_POPULATION
        self.admissions = pop * p.costs.admissions_per_person  # what the partners plan on
        self.true_return = self.rng.normal(p.delivery.return_mean, p.delivery.return_sd, self.n_areas)
        self.maturity = self.rng.uniform(
            p.delivery.maturity_initial_low, p.delivery.maturity_initial_high, self.n_areas
        )
        self.maturity_start = self.maturity.copy()

        self.negotiation = p.mechanisms.negotiation
        if self.negotiation:
            self.rules = self._rules(p.centre.p4p_rule, 0.0 if p.pause.enabled else p.centre.ambition_target)
        else:  # the fixed-plan null: straight to the rules in force at delivery
            rule = p.pause.revised_p4p_rule if p.pause.enabled else p.centre.p4p_rule
            self.rules = self._rules(rule, p.centre.ambition_target)
        self.candidates = candidates(self.rng, p.negotiation.candidates, p.money.max_topup, p.planning.ambition_max)
        self.savings_basis = savings_basis(self.candidates)
        self.imposed_basis = savings_basis(imposed(0.0)[None])

        self.centre = Centre(self)
        self.orgs: dict[str, Organisation] = {}
        for row in geography.orgs.itertuples(index=False):
            self.orgs[row.org_code] = KINDS[row.kind](self, row.org_code, row.org_name, row.population)
        self.trust = TrustNetwork(p.trust.gain_good, p.trust.gain_bad)
        self.trust.graph.add_node(CENTRE)
        members_of_area = {code: grp for code, grp in geography.members.groupby("area_code", sort=False)}
        self.acute_at_table = self.rng.random(self.n_areas) < p.acute.at_table
        members_by_area = []
        for code in geography.areas["area_code"]:
            members = [self.orgs[c] for c in members_of_area[code]["org_code"]]
            members_by_area.append(members)
            self.trust.connect([o.code for o in members], p.trust.initial)
        for o in self.orgs.values():
            self.trust.add(o.code, CENTRE, p.trust.centre_initial)
        self.trust.freeze()
        self.tables: list[Table] = []
        for a, members in enumerate(members_by_area):
            at_table = [o for o in members if o.kind != "acute" or self.acute_at_table[a]]
            outsiders = [o for o in members if o not in at_table]
            self.tables.append(Table(self, a, at_table, outsiders, score=False))
        self.rescore_tables(self.tables)
        self.acute_share = self._acute_share_matrix()
        self.trust_start = self.trust.mean()
        self.table_trust_start = [self.trust.matrix(t.codes) for t in self.tables]
        self.survey: list[tuple[int, str, str, bool]] = []  # (area, org_code, kind, improved)
        self.area_trust = np.full(self.n_areas, p.trust.initial)
        self.area_trust_start = self.area_trust.copy()

        self.status = [Status.TALKING] * self.n_areas
        self.signed_off_week = np.full(self.n_areas, np.nan)
        self.first_agreed_week = np.full(self.n_areas, np.nan)
        self.reviews: dict[int, Review] = {}
        self.first_round: dict[int, Review] = {}
        self.first_review: dict[int, Review] = {}  # each area's first review in assurance
        self.review_count = np.zeros(self.n_areas, int)
        self.returns = np.zeros(self.n_areas, int)  # plans the centre sent back, by area
        self._offers: list[tuple] = []
        self._responses: list[tuple] = []
        # Tables whose seats may wait for people (the workshop's): they talk at the same time.
        self.waiting_tables: frozenset[int] = frozenset()
        self.table_condition: threading.Condition | None = None  # the lock those tables share
        self._staged: dict[int, list[tuple]] | None = None  # offers held back while tables talk together
        self._series: list[dict] = []
        self.delivery: Delivery | None = None

        d = p.deadline
        self.w1 = d.weeks
        self.pause_end = self.w1 + (p.pause.weeks if p.pause.enabled else 0)
        self.w2 = self.pause_end + (p.pause.revised_weeks if p.pause.enabled else 0)
        self.w3 = self.w2 + d.final_weeks
        self.week_no = 0
        self.month_no = 0
        self.phase = Phase.PLANNING
        for t in self.tables:
            t.open(window=self.w1, start_week=0)
        if not self.negotiation:
            self._fixed_plans()
        self.datacollector = mesa.DataCollector(
            model_reporters={
                "phase": "phase",
                "week": "week_no",
                "month": "month_no",
                "trust_mean": lambda m: float(m.area_trust.mean()),
                "signed_off": lambda m: int(np.isfinite(m.signed_off_week).sum()),
                "agreed": lambda m: int(sum(t.agreed is not None for t in m.tables)),
                "integration_index": lambda m: float(m.maturity.mean()),
            }
        )
        self.datacollector.collect(self)

    # --- set-up helpers ----------------------------------------------------------------------
    def _rules(self, p4p_rule: str, target: float) -> Rules:
        p = self.params
        return Rules(
            p4p_rule=p4p_rule,
            p4p_share=p.centre.p4p_share,
            withheld_to=p.centre.withheld_to,
            ambition_target=target,
            divert_room=p.money.divert_room,
            fixed_cost_share=p.acute.fixed_cost_share,
            p4p_gbp_per_admission=p.costs.p4p_gbp_per_admission,
            admission_gbp=p.costs.admission_gbp,
            return_sd=p.delivery.return_sd,
            social_care_spillover=p.delivery.social_care_spillover,
            spillover_claimed_share=p.planning.spillover_claimed_share,
        )

    def _acute_share_matrix(self) -> tuple[list[str], np.ndarray]:
        members = self.geography.members
        acute = members[members.kind == "acute"]
        codes = list(dict.fromkeys(acute.org_code))
        col = {c: i for i, c in enumerate(codes)}
        row = {c: i for i, c in enumerate(self.geography.areas.area_code)}
        mat = np.zeros((self.n_areas, len(codes)))
        for r in acute.itertuples(index=False):
            mat[row[r.area_code], col[r.org_code]] += r.share
        return codes, mat

    def p4p_pot_for(self, plans: np.ndarray) -> np.ndarray:
        return p4p_pot(plans, self.minimum_gbp, self.admissions, self.rules)

    def planned_dtoc_cut(self, plans: np.ndarray) -> np.ndarray:
        """Delayed days the plans claim to save, at the return the partners believed."""
        p = self.params
        s = spend_shares(plans) * self.minimum_gbp[:, None]
        excess_sc = np.maximum(s[:, 0] - FLOORS[0] * self.minimum_gbp, 0)
        excess_ch = np.maximum(s[:, 1] - FLOORS[1] * self.minimum_gbp, 0)
        believed = np.array([t.believed_return() for t in self.tables])
        spill = p.delivery.social_care_spillover * p.planning.spillover_claimed_share * excess_sc
        return (spill + believed * p.planning.community_dtoc_share * excess_ch) / p.costs.bed_day_gbp

    def _fixed_plans(self) -> None:
        """The fixed-plan null (`mechanisms.negotiation` off): every table gets the published 2014
        mix (`nulls.fixed_plan_2014`), signed off at once with no talks and no assurance, and
        delivery starts."""
        p = self.params
        plan = fixed_plan_2014(p.money.minimum_gbp, p.planning.fixed_mix_risk_share)
        why = validate(plan, p.money.max_topup, p.planning.ambition_max)
        if why:
            raise ScenarioError(f"mechanisms.negotiation = false: the fixed 2014 plan breaks the rules here: {why}")
        for a, t in enumerate(self.tables):
            t.plan = plan.copy()
            self.status[a] = Status.APPROVED
        self.signed_off_week[:] = 0
        self.phase = Phase.DELIVERY
        self._start_delivery()

    # --- recording -----------------------------------------------------------------------------
    def record_offer(self, table: Table, week: int, proposer: int, offer: int, accepts: np.ndarray) -> None:
        if table.n > 1:
            self.area_trust[table.area] = off_diagonal_mean(table.trust)
        if not self.record_offers:
            return
        row = (table.area, self.phase.value, week, table.rounds, table.codes[proposer], offer, *table.plans[offer])
        responses = [
            (
                code,
                table.parties[j].kind,
                float(table.utility[j, offer]),
                float(table.reservation[j]),
                float(table.targets[j]),
                "proposed" if j == proposer else ("accept" if accepts[j] else "reject"),
            )
            for j, code in enumerate(table.codes)
        ]
        if self._staged is not None:
            self._staged[table.area].append((row, responses))  # logged in the week's order when all are done
        else:
            self._log_offer(row, responses)

    def _log_offer(self, row: tuple, responses: list[tuple]) -> None:
        oid = len(self._offers)
        self._offers.append((oid, *row))
        self._responses.extend((oid, *r) for r in responses)

    # --- schedule ----------------------------------------------------------------------------
    @property
    def done(self) -> bool:
        return self.phase == Phase.DONE

    def step(self) -> None:
        if self.phase == Phase.DONE:
            return
        if self.phase == Phase.DELIVERY:
            self._month()
        else:
            self._week()
        self.datacollector.collect(self)
        self.running = self.phase != Phase.DONE

    def _week(self) -> None:
        w = self.week_no
        p = self.params
        if w >= self.w3:
            self._escalate()
            self.phase = Phase.DELIVERY
            self._start_delivery()
            return
        if p.pause.enabled and w == self.w1:
            self._first_round_stress_test()
            self.phase = Phase.PAUSE
        if p.pause.enabled and w == self.pause_end:
            self._revise_rules()
        if self.phase != Phase.PAUSE:
            for a in self._talk(w):
                if np.isnan(self.first_agreed_week[a]):
                    self.first_agreed_week[a] = w
                if self.phase == Phase.ASSURANCE:
                    self.status[a] = Status.SUBMITTED
                    self.centre.queue.append(a)
            if self.phase == Phase.ASSURANCE:
                self._assure(w)
            elif w + 1 == self.w2:
                self._submit_agreed()
                self.phase = Phase.ASSURANCE
        self._people(weeks=1)
        self.week_no += 1

    def _talk(self, w: int) -> list[int]:
        """One week of talks at every table still talking, in a random order of areas; returns
        the areas that agreed, in that order."""
        order = [int(a) for a in self.rng.permutation(self.n_areas) if self.status[a] == Status.TALKING]
        if len(self.waiting_tables.intersection(order)) < 2:
            return [a for a in order if self.tables[a].week(w)]
        return self._talk_together(order, w)

    def _talk_together(self, order: list[int], w: int) -> list[int]:
        """The week's talks when several tables wait for people (a workshop with people at
        several tables): every table talks in its own thread, so that people at one table do not
        wait for another's. The result is the sequential one, exactly: a table starts only when
        every earlier table in `order` that shares an organisation with it has finished (the
        only state tables share is their organisations' trust), only one table runs at a time
        (`table_condition`, released while a seat waits), and the offer log is written in
        `order` at the end."""
        cond = self.table_condition or threading.Condition()
        codes = [set(self.tables[a].codes) for a in order]
        before = [[j for j in range(i) if codes[j] & codes[i]] for i in range(len(order))]
        done = [False] * len(order)
        agreed = [False] * len(order)
        errors: list[BaseException] = []
        self._staged = {a: [] for a in order}

        def talk(i: int) -> None:
            with cond:
                try:
                    cond.wait_for(lambda: bool(errors) or all(done[j] for j in before[i]))
                    if not errors:
                        agreed[i] = self.tables[order[i]].week(w)
                except BaseException as exc:  # re-raised in the model's thread below
                    errors.append(exc)
                finally:
                    done[i] = True
                    cond.notify_all()

        threads = [
            threading.Thread(target=talk, args=(i,), name=f"table-{a}", daemon=True) for i, a in enumerate(order)
        ]
        try:
            with cond:
                for t in threads:
                    t.start()
                cond.wait_for(lambda: all(done))
        finally:
            staged, self._staged = self._staged, None
        for t in threads:
            t.join()
        if errors:
            raise errors[0]
        for a in order:
            for row, responses in staged[a]:
                self._log_offer(row, responses)
        return [a for a, ok in zip(order, agreed) if ok]

    def _submit_agreed(self) -> None:
        for a, t in enumerate(self.tables):
            if t.agreed is not None and self.status[a] == Status.TALKING:
                self.status[a] = Status.SUBMITTED
                self.centre.queue.append(a)

    def _first_round_stress_test(self) -> None:
        """Plans in by the first deadline are stress-tested (NHS England, May 2014), then reopened."""
        review = self.params.mechanisms.review
        for a, t in enumerate(self.tables):
            if review and t.agreed is not None:
                self.first_round[a] = self.centre.stress_test(a, t.plan)  # feedback, not a verdict
            self.status[a] = Status.PAUSED

    def rescore_tables(self, tables: list[Table]) -> None:
        """`Table.rescore` for many tables at once: the features of the shared candidates and of
        each table's imposed plan are computed over (tables, plans) arrays, then each table takes
        its own scores. Tables holding a person's plan score themselves."""
        shared = [t for t in tables if t.plans is self.candidates]
        for t in tables:
            if t.plans is not self.candidates:
                t.rescore()
        if not shared:
            return
        areas = np.array([t.area for t in shared])
        believed = np.array([t.believed_return() for t in shared])
        fallback = np.repeat(imposed(0.0)[None, None], len(shared), axis=0)  # (tables, 1, slots)
        fallback[:, 0, Slot.AMBITION] = [t.fallback_ambition(b) for t, b in zip(shared, believed)]
        minimum = self.minimum_gbp[areas][:, None]
        admissions = self.admissions[areas][:, None]
        feats = features(self.candidates, minimum, admissions, self.rules, believed[:, None], self.savings_basis)
        fallback_feats = features(fallback, minimum, admissions, self.rules, believed[:, None])
        for i, t in enumerate(shared):
            t.take_scores(float(believed[i]), feats[i], fallback_feats[i])

    def _revise_rules(self) -> None:
        p = self.params
        self.rules = self._rules(p.pause.revised_p4p_rule, p.centre.ambition_target)
        self.phase = Phase.REVISED
        for a, t in enumerate(self.tables):
            if a in self.first_round:
                t.centre_view = self.first_round[a].estimated_return
                t.centre_weight = float(np.mean([self.trust.get(c, CENTRE) for c in t.codes]))
            t.open(window=p.pause.revised_weeks, start_week=self.pause_end)
            t.trust = self.trust.matrix(t.codes)
            self.status[a] = Status.TALKING
        self.rescore_tables(self.tables)

    def _assure(self, w: int) -> None:
        """The centre reviews queued plans up to its capacity; without review it signs off every
        submitted plan unseen (`mechanisms.review`)."""
        if not self.params.mechanisms.review:
            for a in self.centre.queue:
                self.status[a] = Status.APPROVED
                self.signed_off_week[a] = w
            self.centre.queue.clear()
            return
        for _ in range(min(self.centre.capacity, len(self.centre.queue))):
            a = self.centre.queue.pop(0)
            t = self.tables[a]
            review = self.centre.review(a, t.plan)
            self.reviews[a] = review
            self.first_review.setdefault(a, review)
            self.review_count[a] += 1
            self.trust.experience_with_centre(t.codes, self.centre.verdict_experience(review.verdict))
            if review.verdict == Status.NOT_APPROVED:
                self.returns[a] += 1
                weeks = self.centre.send_back(t, review)
                t.open(window=weeks, start_week=w + 1)
                self.status[a] = Status.TALKING
            else:
                self.status[a] = review.verdict
                self.signed_off_week[a] = w

    def _escalate(self) -> None:
        """After the final deadline the centre imposes its minimum plan on every area not signed off."""
        imposition = self.centre.verdict_experience(Status.IMPOSED)
        for a, t in enumerate(self.tables):
            if self.status[a] in SIGNED_OFF:
                continue
            t.plan = imposed(self.rules.ambition_target)
            t.imposed = True
            self.status[a] = Status.IMPOSED
            self.trust.experience_with_centre(t.codes, imposition)

    def _people(self, weeks: float) -> None:
        """Leaders leave and newcomers start from the prior; co-location adds contact (H6)."""
        p = self.params.trust
        if p.turnover > 0:
            prob = 1 - (1 - p.turnover) ** (weeks / 52)
            codes = list(self.orgs)
            for i in np.flatnonzero(self.rng.random(len(codes)) < prob):
                self.trust.replace_leader(codes[i], p.initial)
        if p.colocation > 0:
            for t in self.tables:
                self.trust.experience(t.codes, 1.0, weight=p.colocation * p.contact_weight * weeks)

    # --- delivery ------------------------------------------------------------------------------
    def _start_delivery(self) -> None:
        plans = np.stack([t.plan for t in self.tables])
        self.defensiveness = self.acute_defensiveness(plans)
        self.delivery = Delivery(self, plans, self.defensiveness)

    def acute_drain(self) -> np.ndarray:
        """GBP a year each acute trust loses to the minimum (`acute.drain_share` of the minimum that
        is not new money), by trust in `acute_share` order."""
        codes, share = self.acute_share
        nhs_min = self.minimum_gbp * (1 - self.params.money.new_money_share)
        return share.T @ (self.params.acute.drain_share * nhs_min)

    def acute_avoided_admissions(self, plans: np.ndarray) -> np.ndarray:
        """Admissions a year each area's plan avoids, as its acute trusts judge it: at the table
        they share the partners' believed return (what the plan's schemes can deliver, §7.6); left
        out, they read the plan's published ambition."""
        believed = np.array([t.claim_ceiling(savings_basis(plans[a][None]))[0] for a, t in enumerate(self.tables)])
        judged = np.where(self.acute_at_table, np.maximum(believed, 0.0), plans[:, Slot.AMBITION])
        return judged * self.admissions

    def acute_defensiveness(self, plans: np.ndarray) -> np.ndarray:
        """Each area's acute defensiveness: its trusts' own (`AcuteTrust.defensiveness`, from what
        the plans of all the areas each serves would cost it), weighted by their shares of the area."""
        codes, share = self.acute_share
        spend = spend_shares(plans) * self.minimum_gbp[:, None]
        avoided = share.T @ self.acute_avoided_admissions(plans)
        risk_share = share.T @ spend[:, LINES.index(Slot.ACUTE_RISK_SHARE)]
        stake = share.T @ self.p4p_pot_for(plans) if self.params.centre.withheld_to == "nhs" else np.zeros(len(codes))
        drain = self.acute_drain()
        own = np.zeros(len(codes))
        for i, code in enumerate(codes):
            trust = self.orgs[code]
            assert isinstance(trust, AcuteTrust)
            trust.exposure_share = trust.exposure(float(avoided[i]), float(risk_share[i]), float(stake[i]))
            own[i] = trust.defensiveness(trust.exposure_share, float(drain[i]))
        weight = share.sum(axis=1)
        return np.divide(share @ own, weight, out=np.zeros(self.n_areas), where=weight > 0)

    def _month(self) -> None:
        p = self.params
        m = self.month_no
        out = self.delivery.month(m)
        if m % 3 == 2 and self.negotiation:
            self._quarterly_review(out)
        # Joint working matures towards what the partners' relationship supports.
        self.maturity = np.clip(self.maturity + p.delivery.maturity_rate * (self.area_trust - self.maturity), 0, 1)
        if self.negotiation:  # the fixed-plan null holds trust at its initial value
            self._people(weeks=52 / 12)
        by_agency = out["dtoc_days_by_agency"]
        for a in range(self.n_areas):
            self._series.append(
                (
                    a,
                    m,
                    out["admissions"][a],
                    out["admissions_cf"][a],
                    out["dtoc_days"][a],
                    by_agency[a, 0],
                    by_agency[a, 1],
                    by_agency[a, 2],
                    out["dtoc_days_cf"][a],
                    out["care_home_admissions_65"][a],
                    self.maturity[a],
                    self.area_trust[a],
                )
            )
        self.month_no += 1
        if self.month_no >= p.delivery.months:
            self._close_year()
            self._survey()
            self.phase = Phase.DONE

    def _survey(self) -> None:
        """Each partner at a table answers "has joint working improved?" from what it lived
        through: its change in trust in its partners since set-up (agreement, reviews, contact and
        the centre's verdicts all act through trust), plus `delivery.survey_outcome_weight` times
        the measured change: the relative fall in emergency admissions against 2014-15."""
        d = self.delivery
        weight = self.params.delivery.survey_outcome_weight
        with np.errstate(divide="ignore", invalid="ignore"):
            measured = -d.admissions_change() / (d.baseline_admissions * d.baseline_share())
        self.survey = []
        for a, t in enumerate(self.tables):
            if t.n < 2:
                continue
            # The diagonal is 1 in both, so the row sum over n - 1 is the mean over partners.
            change = (self.trust.matrix(t.codes) - self.table_trust_start[a]).sum(axis=1) / (t.n - 1)
            for i, party in enumerate(t.parties):
                self.survey.append((a, party.code, party.kind, bool(change[i] + weight * measured[a] > 0)))

    def _close_year(self) -> None:
        """Each acute trust closes its books on the delivery period (vectorised flows, then each
        trust's own accounts)."""
        p = self.params
        d = self.delivery
        codes, share = self.acute_share
        years = d.months_done / 12  # annual flows over the delivery period
        adm_delta = share.T @ d.admissions_change()
        spend = spend_shares(d.plans) * self.minimum_gbp[:, None]
        inflow = share.T @ spend[:, 3] * years
        if p.centre.withheld_to == "nhs":
            inflow = inflow + share.T @ d.withheld
        drain = self.acute_drain() * years
        for i, code in enumerate(codes):
            trust = self.orgs[code]
            assert isinstance(trust, AcuteTrust)
            trust.close_year(float(adm_delta[i]), float(inflow[i]), float(drain[i]), years)

    def _quarterly_review(self, out: dict[str, np.ndarray]) -> None:
        """Partners review delivery. Each organisation is judged on its own commitments kept
        (`Organisation.commitment_kept`): row party's experience of column party is the column
        party's record. Money withheld to the centre is the centre's rule, so it lowers trust in
        the centre; the partners do not blame each other for it, because the measure (the area's
        admissions and delays) is joint and no partner's share of a miss can be told apart."""
        p = self.params
        if not p.mechanisms.review_experience:
            return
        to_centre = p.centre.withheld_to == "centre"
        pot = np.maximum(self.delivery.pot / 4, 1.0)
        for a, t in enumerate(self.tables):
            orgs = t.parties + t.outsiders
            members = [o.code for o in orgs]
            kept = np.array([o.commitment_kept(self.delivery, a) for o in orgs])
            self.trust.experience(members, np.broadcast_to(kept, (len(orgs), len(orgs))), weight=p.trust.review_weight)
            if to_centre and out["withheld"][a] > 0:
                self.trust.experience_with_centre(members, 0.0, weight=float(out["withheld"][a] / pot[a]))
            if t.outsiders and self.defensiveness[a] > 0:
                # A defensive trust left out of the table sours on the partners who made the plan.
                e = np.ones((len(members), len(members)))
                e[t.n :, : t.n] = 0.0
                w = np.zeros_like(e)
                w[t.n :, : t.n] = self.defensiveness[a]
                self.trust.experience(members, e, weight=w)
            if t.n > 1:
                self.area_trust[a] = off_diagonal_mean(self.trust.matrix(t.codes))
