"""A person in the centre's seat (issue 15): the reviewer seam on the agent, the room's centre
seat, its checked verdicts and their replay from the session file. No browser needed."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest

from bettercare.agents import Verdict
from bettercare.model.model import BetterCareModel
from bettercare.model.scenario import load_scenario
from bettercare.vocabulary.status import Phase, Status
from bettercare.workshop.export import session_zip
from bettercare.workshop.room import Action, Room, Settings
from bettercare.workshop.store import SessionStore
from tests.workshop_room import fac, idle, join

WAIT = 20.0
AREAS = ["Wigan", "Sunderland"]


# --- the agent's seam ---------------------------------------------------------------------------


class Recording:
    """A reviewer that sees every review and gives `answer` (None: the model's verdict stands)."""

    def __init__(self, answer: Status | str | None):
        self.answer = answer
        self.seen: list[tuple[int, Status, float]] = []

    def review(self, centre, area, review):
        self.seen.append((area, review.verdict, review.ratio))
        return None if self.answer is None else Verdict(self.answer, "tester")


def planned(reviewer=None) -> BetterCareModel:
    sc = load_scenario("hospitals-out", {"areas.names": AREAS})
    m = BetterCareModel(sc.params, rng=1)
    m.centre.reviewer = reviewer
    while m.phase != Phase.DELIVERY:
        m.step()
    return m


def reviews(m: BetterCareModel):
    return {a: (r.verdict, round(r.ratio, 12), r.by) for a, r in m.reviews.items()}


def test_a_reviewer_that_leaves_the_verdict_to_the_model_changes_nothing():
    alone, watcher = planned(), Recording(None)
    watched = planned(watcher)
    assert watcher.seen, "the reviewer is consulted at assurance"
    assert reviews(watched) == reviews(alone)
    assert list(watched.status) == list(alone.status)
    assert np.array_equal(watched.returns, alone.returns)
    assert all(r.by == "model" for r in alone.reviews.values())


def test_a_reviewers_verdict_is_the_centres_and_names_who_gave_it():
    m = planned(Recording(Status.NOT_APPROVED))
    assert m.reviews and all(r.verdict == Status.NOT_APPROVED and r.by == "tester" for r in m.reviews.values())
    assert (m.returns >= 1).all(), "every plan went back to its partners"
    assert all(s == Status.IMPOSED for s in m.status), "never approved: the centre imposes its plan"


def test_a_reviewer_cannot_give_a_status_that_is_not_a_verdict():
    with pytest.raises(ValueError, match="A verdict must be one of approved, approved_with_conditions, not_approved"):
        planned(Recording(Status.IMPOSED))


# --- the room -------------------------------------------------------------------------------------


def settle(room):
    """Finish the step; any other plan the centre reviews in it gets the stress test's verdict."""
    for _ in range(50):
        assert room.wait_until(lambda: not room.busy or room.waiting_for(), WAIT)
        if not room.busy:
            return
        assert fac(room, "skip").ok
    raise AssertionError(room.waiting_text())


def to_review(room, limit: int = 200):
    """Step (agents play the table) until the centre's seat is asked for a verdict."""
    c = room.centre_seat
    for _ in range(limit):
        if room.open_turn(c) is None and not room.busy:
            assert fac(room, "step").ok
        assert room.wait_until(lambda: not room.busy or room.open_turn(c) is not None, WAIT)
        t = room.open_turn(c)
        if t is not None:
            return t
    raise AssertionError(f"no plan came to the centre in {limit} steps")


def give(room, token, t, status):
    return room.act(Action("verdict", token, seat=room.centre_seat, turn=t.id, week=t.week, data={"status": status}))


def new_room(store=None) -> Room:
    room = Room(Settings.for_preset("hospitals-out", AREAS), code="ASSURE", store=store)
    room.leave_grace = 0
    return room


def test_human_centre_returns_a_plan_the_area_resubmits_and_the_run_goes_on():
    room = new_room()
    cy = join(room, "Cy", room.centre_seat, "browser-c")
    assert room.seat_of(cy) == room.centre_seat
    t = to_review(room)
    area = t.area
    f = t.figures
    assert f["area"] == AREAS[area] and f["claimed_gbp"] > 0 and f["conditions_ratio"] > f["approve_ratio"]
    assert f["ratio"] == pytest.approx(f["claimed_gbp"] / f["realistic_gbp"])
    assert "give a verdict" in room.waiting_text()
    assert room.snapshot().assurance["under_review"]["area"] == AREAS[area]
    out = give(room, cy, t, "not_approved")
    assert out.ok, out.message
    settle(room)
    m = room.model
    assert m.returns[area] == 1 and m.status[area] == Status.TALKING
    assert m.reviews[area].verdict == Status.NOT_APPROVED and m.reviews[area].by == "Cy"
    assert room.verdicts[-1]["verdict"] == "not_approved" and room.verdicts[-1]["by"] == "Cy"
    # the partners rework the plan and submit it again; this time the person approves it
    while True:
        t = to_review(room)
        if t.area == area:
            break
        assert give(room, cy, t, "approved_with_conditions").ok
    assert give(room, cy, t, "approved").ok
    settle(room)
    assert m.status[area] == Status.APPROVED and m.reviews[area].by == "Cy"
    assert m.review_count[area] == 2, "reviewed, returned, resubmitted and reviewed again"
    z = zipfile.ZipFile(io.BytesIO(session_zip(room)))
    rows = z.read("verdicts.csv").decode().splitlines()
    assert rows[0].startswith("week,area,") and rows[1].endswith(",not_approved,Cy")
    assert fac(room, "run").ok
    for _ in range(50):  # any plan still to assure: the person lets the stress test decide
        room.wait_until(lambda: m.done or room.waiting_for(), WAIT)
        if m.done:
            break
        assert fac(room, "skip").ok
    idle(room, WAIT)
    assert m.done
    assert room.outcome is not None and m.status[area] == Status.APPROVED
    with room._cond:
        room._halt()


def test_verdicts_are_checked_with_one_clear_message():
    room = new_room()
    cy = join(room, "Cy", room.centre_seat, "browser-c")
    early = room.act(Action("verdict", cy, seat=room.centre_seat, turn=1, week=0, data={"status": "approved"}))
    assert not early.ok and early.message == "It is not your turn to give a verdict now (week 0)."
    t = to_review(room)
    bad = give(room, cy, t, "imposed")
    assert not bad.ok
    assert bad.message == (
        "Verdict refused: A verdict must be one of approved, approved_with_conditions, not_approved; got 'imposed'."
    )
    assert not give(room, cy, t, None).ok
    ann = join(room, "Ann", 0, "browser-a")  # a council seat cannot give the centre's verdict
    other = room.act(Action("verdict", ann, seat=room.centre_seat, turn=t.id, week=t.week, data={"status": "approved"}))
    assert not other.ok and other.message.startswith("You sit as")
    assert room.open_turn(room.centre_seat) is t and t.answer is None, "refused verdicts change nothing"
    assert give(room, cy, t, "approved").ok
    again = give(room, cy, t, "not_approved")
    assert not again.ok
    assert fac(room, "free_seat", seat=0).ok
    settle(room)
    assert room.model.reviews[t.area].verdict == Status.APPROVED
    with room._cond:
        room._halt()


def centre_state(room):
    m = room.model
    return {
        "tick": room.tick,
        "status": [str(s) for s in m.status],
        "returns": m.returns.tolist(),
        "reviews": {a: (str(r.verdict), round(r.ratio, 12), r.by) for a, r in m.reviews.items()},
        "verdicts": [dict(v) for v in room.verdicts],
        "holders": dict(room.holders),
    }


def test_a_restarted_server_replays_the_centres_verdicts(tmp_path):
    path = tmp_path / "assure.sqlite"
    room = new_room(SessionStore(path))
    cy = join(room, "Cy", room.centre_seat, "browser-c")
    t = to_review(room)
    assert give(room, cy, t, "not_approved").ok
    t = to_review(room)
    assert give(room, cy, t, "approved").ok
    t = to_review(room)  # the server stops while the centre thinks over a third plan
    before = centre_state(room)
    assert [v["by"] for v in before["verdicts"]] == ["Cy", "Cy"]
    room.store.close()

    again = Room(store=SessionStore(path))
    t2 = to_review(again)  # the same plan is waiting for the same person again
    assert (t2.area, t2.figures) == (t.area, t.figures)
    assert centre_state(again) == before
    assert again.seat_of(cy) == again.centre_seat
    assert give(again, cy, t2, "approved_with_conditions").ok
    settle(again)
    assert again.model.reviews[t2.area].verdict == Status.CONDITIONS
    assert again.model.reviews[t2.area].by == "Cy"
    after = centre_state(again)
    with again._cond:
        again._halt()
    again.store.close()

    third = Room(store=SessionStore(path))  # a complete step with a person's verdict replays too
    assert centre_state(third) == after
    third.close()


def test_the_assurance_panel_shows_the_figures_and_its_buttons_give_the_verdict():
    import ipyvuetify as v
    import solara

    from bettercare.workshop.pages.seat import AssurancePanel, VerdictHistory

    room = new_room()
    cy = join(room, "Cy", room.centre_seat, "browser-c")
    t = to_review(room)
    view = room.snapshot()
    assert view.centre.turn_kind == "review" and view.centre.person == "Cy"
    box, rc = solara.render(AssurancePanel(room, view, cy), handle_error=False)
    table = rc.find(attributes={"class": "bc-stress-test"}).widget.unsafe_innerHTML
    assert f"<b>{t.figures['ratio']:.2f}</b>" in table and f"{t.figures['conditions_ratio']:.2f}" in table
    assert rc.find(v.Html, children=[f"Assure {t.figures['area']}'s plan (week {t.week})."]).widget
    rc.find(v.Btn, children=["Approve with conditions"]).widget.click()
    assert t.answer == "approved_with_conditions"
    settle(room)
    box, rc = solara.render(VerdictHistory(room.snapshot()), handle_error=False)
    given = rc.find(tag="ul").widget.unsafe_innerHTML
    assert f"Week {t.week}: {t.figures['area']}: approved with conditions" in given and "by Cy" in given
    assert room.model.reviews[t.area].verdict == Status.CONDITIONS and room.model.reviews[t.area].by == "Cy"
    with room._cond:
        room._halt()


def test_when_time_runs_out_the_stress_tests_verdict_stands():
    room = new_room()
    join(room, "Cy", room.centre_seat, "browser-c")
    t = to_review(room)
    assert fac(room, "timer", data={"seconds": 1}).ok
    idle(room, WAIT)  # nobody answers: each plan waits its second, then the stress test decides
    r = room.model.reviews[t.area]
    assert r.by == "model" and str(r.verdict) == t.figures["model_verdict"]
    assert room.verdicts == []
    assert any(
        e.text == f"Time ran out: the stress test's verdict stands on {t.figures['area']}'s plan" for e in room.log
    )
    assert room.snapshot().centre.agent_note == f"Time ran out in week {t.week}: the stress test's own verdict stood."
