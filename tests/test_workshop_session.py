"""Sessions on disk, rate limits, seats per browser and the plan form's arithmetic, without a browser."""

from __future__ import annotations

import numpy as np
import pytest

from bettercare.workshop import plans
from bettercare.workshop.access import Link, LinkBook, RateLimiter
from bettercare.workshop.export import guard_cell
from bettercare.workshop.room import Action, Room, Settings
from bettercare.workshop.settings import code_problem
from bettercare.workshop.store import SessionStore
from tests.workshop_room import fac, idle, join

WAIT = 10.0


def turn(room, seat):
    assert room.wait_until(lambda: room.open_turn(seat) is not None, WAIT), room.waiting_text()
    return room.open_turn(seat)


def play_weeks(room, ann, bo):
    """Week 0: Ann proposes her own plan, Bo rejects; trust moves; week 1: Bo's turn runs out."""
    fac(room, "step")
    t = turn(room, 0)
    form = room.plan_to_form(room.suggestion(0))
    form["shares_pct"] = plans.balance(
        form["shares_pct"],
        2,
        form["shares_pct"][2] + 3,
        plans.floors_pct(form["council_topup_m"], form["ccg_topup_m"], room.plan_limits()["minimum_gbp"]),
    )
    assert room.act(Action("propose", ann, seat=0, turn=t.id, week=t.week, data=form)).ok
    t = turn(room, 1)
    assert fac(room, "configure", data={"trust": 0.9}).ok  # while Bo thinks
    assert room.act(Action("respond", bo, seat=1, turn=t.id, week=t.week, data={"accept": False})).ok
    idle(room)
    fac(room, "step")
    turn(room, 1)
    assert fac(room, "skip").ok  # the agent proposes for Bo
    agents_answer(room)  # and answers for Ann
    assert fac(room, "configure", data={"compromise": 2.0}).ok
    fac(room, "step")
    agents_answer(room)


def agents_answer(room):
    """Let the agents answer for everyone until the step is over."""
    while not room.wait_until(lambda: not room.busy or room.waiting_for(), WAIT) or room.busy:
        fac(room, "skip")


def state_of(room):
    rec = room.recorder
    rec.pull()
    return {
        "tick": room.tick,
        "week": room.model.week_no,
        "offers": [
            (o.oid, o.week, o.proposer, o.responses, o.plan.round(9).tolist(), o.people, o.agents) for o in rec.offers
        ],
        "trust": room.recorder.trust_now().round(12).tolist(),
        "settings": room.settings,
        "status": list(room.model.status),
        "holders": dict(room.holders),
    }


def test_a_session_resumes_exactly_after_a_restart(tmp_path):
    path = tmp_path / "day1.sqlite"
    room = Room(Settings.for_preset("hospitals-out", ["Wigan"]), code="BCF2014", store=SessionStore(path))
    room.leave_grace = 0
    ann, bo = join(room, "Ann", 0, "browser-a"), join(room, "Bo", 1, "browser-b")
    play_weeks(room, ann, bo)
    before = state_of(room)
    log = [(e.who, e.text) for e in room.log]
    key, code = room.facilitator_token, room.code
    room.close()

    again = Room(store=SessionStore(path))
    after = state_of(again)
    assert after == before
    assert again.facilitator_token == key and again.code == code == "BCF2014"
    assert [(e.who, e.text) for e in again.log][: len(log)] == log
    assert again.log[-1].text.startswith("Session resumed at step 3")
    assert again.seat_of(ann) == 0 and again.seat_of(bo) == 1
    assert any("agent" in o[6].get(1, "") or o[6] for o in after["offers"])  # the skip is remembered
    # and it goes on from there as the first room would have
    room.store = None
    for r in (room, again):
        for _ in range(3):
            fac(r, "step")
            agents_answer(r)
    assert state_of(again) == state_of(room) and again.tick == 6
    again.close()


def test_a_step_cut_short_by_a_restart_keeps_what_people_said(tmp_path):
    path = tmp_path / "cut.sqlite"
    room = Room(Settings.for_preset("hospitals-out", ["Wigan"]), code="CUT01", store=SessionStore(path))
    ann, bo = join(room, "Ann", 0, "a"), join(room, "Bo", 1, "b")
    fac(room, "step")
    t = turn(room, 0)
    form = room.plan_to_form(room.suggestion(0))
    assert room.act(Action("propose", ann, seat=0, turn=t.id, week=t.week, data=form)).ok
    turn(room, 1)  # the server stops while Bo thinks
    n_plans = len(room.table.plans)
    room.store.close()

    again = Room(store=SessionStore(path))
    t = turn(again, 1)  # Ann's plan stands; Bo is asked again
    assert len(again.table.plans) == n_plans
    assert again.table.proposer == 0 and t.kind == "respond"
    assert again.act(Action("respond", bo, seat=1, turn=t.id, week=t.week, data={"accept": True})).ok
    idle(again)
    assert again.table.agreed_week == 0
    again.close()


def test_wrong_codes_are_rate_limited_per_browser_and_right_codes_are_not():
    room = Room(Settings.for_preset("hospitals-out", ["Wigan"]), code="TESTA")
    for _ in range(5):
        out = room.act(Action("join", seat=0, client="x", data={"code": "WRONG", "name": "Eve"}))
        assert out.message.startswith("That is not this room's code")
    out = room.act(Action("join", seat=0, client="x", data={"code": "TESTA", "name": "Eve"}))
    assert not out.ok and out.message.startswith("Too many wrong room codes: try again in")
    assert room.act(Action("join", seat=0, client="y", data={"code": "TESTA", "name": "Ann"})).ok


def test_the_limiter_forgets_after_its_window():
    now = [0.0]
    lim = RateLimiter(per_client=2, per_room=3, window=60, clock=lambda: now[0])
    lim.failed("a")
    lim.failed("a")
    assert lim.wait_for("a") == pytest.approx(60)
    assert lim.wait_for("b") == 0
    lim.failed("b")
    assert lim.wait_for("c") == pytest.approx(60)  # the room's cap
    now[0] = 61
    assert lim.wait_for("a") == 0 and lim.wait_for("c") == 0


def test_one_seat_per_browser_unless_the_facilitator_allows_more():
    room = Room(Settings.for_preset("hospitals-in", ["Wigan"]), code="TESTA")
    join(room, "Ann", 0, "laptop")
    out = room.act(Action("join", seat=1, client="laptop", data={"code": "TESTA", "name": "Ann again"}))
    assert not out.ok and "One seat per browser" in out.message
    assert fac(room, "configure", data={"seats_per_browser": 2}).ok
    join(room, "Team B", 1, "laptop")
    out = room.act(Action("join", seat=2, client="laptop", data={"code": "TESTA", "name": "Team C"}))
    assert not out.ok and "One seat per browser" in out.message


def test_one_time_links_work_once():
    book = LinkBook()
    nonce = book.issue(Link("bc_seat", "tok", "/seat"))
    assert book.redeem(nonce) == Link("bc_seat", "tok", "/seat")
    assert book.redeem(nonce) is None
    assert book.redeem("made-up") is None


@pytest.mark.parametrize(
    "code, ok",
    [("BCF2014", True), ("bcf24", True), ("ab", False), ("BCF-24", False), ("ÄBC12", False), ("A" * 13, False)],
)
def test_room_codes_are_letters_and_digits(code, ok):
    assert (code_problem(code) is None) == ok


def test_shares_balance_to_100_and_keep_floors():
    floors = plans.floors_pct(0.0, 0.0, 20e6)
    start = plans.make_100([40.0, 20.0, 20.0, 5.0, 15.0], floors)
    assert sum(start) == pytest.approx(100, abs=1e-9)
    rng = np.random.default_rng(3)
    shares = start
    for _ in range(200):
        i = int(rng.integers(5))
        shares = plans.balance(shares, i, float(rng.uniform(-10, 110)), floors)
        assert sum(shares) == pytest.approx(100, abs=1e-9)
        assert all(s >= f - 1e-9 for s, f in zip(shares, floors))
    assert plans.balance(shares, 2, 100, floors)[2] < 100  # the others' floors stay


@pytest.mark.parametrize(
    "value, guarded",
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1", "'+1"),
        ("-cmd", "'-cmd"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("Ann", "Ann"),
        (3.5, 3.5),
    ],
)
def test_csv_cells_are_guarded_against_formulas(value, guarded):
    assert guard_cell(value) == guarded


@pytest.mark.parametrize(
    "args, words",
    [
        (
            ["--room-code", "BCF-24"],
            "error: --room-code 'BCF-24' is not allowed: a room code is 3-12 letters and digits",
        ),
        (["--session", "../etc"], "error: --session '../etc' is not allowed"),
        (["--area", "Wigan", "--focus", "Kent"], "error: --focus 'Kent' is not one of the --area values"),
        (["--area", "Wigan", "--table", "Kent"], "error: --table 'Kent' is not one of the --area values"),
        (
            ["--area", "Hartlepool", "--area", "Stockton-on-Tees", "--table", "Stockton-on-Tees"],
            "error: tables: people cannot sit at both Hartlepool and Stockton-on-Tees",
        ),
        (["--trust", "1.5"], "Invalid value for '--trust'"),
    ],
)
def test_bad_workshop_flags_get_one_error_line_and_exit_2(args, words, tmp_path):
    import os
    import subprocess
    import sys

    env = dict(os.environ, BETTERCARE_WORKSHOP_SESSIONS=str(tmp_path))
    r = subprocess.run(
        [sys.executable, "-m", "bettercare.workshop", *args], capture_output=True, text=True, timeout=120, env=env
    )
    assert r.returncode == 2, r.stderr
    assert words in r.stderr and "Traceback" not in r.stderr, r.stderr


def test_the_table_narrates_the_pause_the_top_ups_and_the_agent_answering_for_a_person():
    from bettercare.workshop import charts

    room = Room(Settings.for_preset("hospitals-in", ["Wigan"]), code="TESTA")
    room.leave_grace = 0
    bo = join(room, "Bo", 1, "b")
    fac(room, "step")
    turn(room, 1)
    fac(room, "skip")  # the facilitator moves on: the agent answers for Bo
    idle(room)
    line = room.snapshot().lines[0][1]
    assert (
        "NHS Wigan Borough CCG rejects (the model's agent answered: the facilitator moved on)" in line
        or "NHS Wigan Borough CCG accepts (the model's agent answered: the facilitator moved on)" in line
    ), line
    assert room.seat_of(bo) == 1
    assert (
        room.snapshot().seats[1].agent_note == "The facilitator moved on in week 0: the model's agent answered for you."
    )
    fac(room, "free_seat", seat=1)
    fac(room, "run")
    assert room.wait_until(lambda: room.model.week_no > 32 or room.model.done, 120)
    fac(room, "pause")
    idle(room)
    view = room.snapshot()
    texts = [t for _, t in view.lines]
    pause = [t for t in texts if t.startswith("The centre pauses planning for 14 weeks")]
    assert pause and "Nobody talks until the revised guidance" in pause[0]
    assert any(t.startswith("Revised guidance: talks reopen") for t in texts)
    paid = [o for o in room.recorder.offers if o.plan[0] + o.plan[1] > 0.01]
    assert paid, "no offer with a top-up to narrate"
    sentence = room._sentences[paid[-1].oid]
    assert " of its own" in sentence or "adds £" in sentence, sentence
    png = charts.dance_png(view)
    assert png[:4] == b"\x89PNG"
    gap = charts.pause_gap(view.deadlines)
    assert gap == (view.deadlines["plan deadline"], view.deadlines["revised guidance"])


def test_many_parties_get_distinct_colours_and_a_trust_matrix():
    from bettercare.workshop import charts
    from bettercare.workshop.history import Party

    parties = [Party(i, f"p{i}", f"Party {i}", "ccg", False) for i in range(11)]
    assert len(set(charts.colours(parties))) == 11
    trust = np.full((11, 11), 0.5)
    assert charts.trust_network(parties, trust).axes[0].images  # a matrix, not a blob of arrows
    assert not charts.trust_network(parties[:3], trust[:3, :3]).axes[0].images


def test_the_debrief_tells_the_story_from_the_models_records():
    from bettercare.workshop.debrief import replay_story, table_story
    from bettercare.workshop.replay import run_pair

    room = Room(Settings.for_preset("england-2014", ["Wigan"]), code="TESTA")
    fac(room, "run")
    assert room.wait_until(lambda: room.model.done and not room.busy, 200)
    view = room.snapshot()
    story = table_story(room.recorder, view.outcome["area"], view.deadlines)
    assert len(story) == 5
    first = next(o for o in room.recorder.offers if o.agreed)
    assert f"The first agreement came in week {first.week}" in story[1]
    assert f"{len(room.recorder.offers)} offers" in story[0]
    realised = view.outcome["area"]["realised_emergency_admissions_change"]
    assert f"delivery realised {realised:+,.0f}" in story[4]
    other = Room(Settings.for_preset("england-2014", ["Wigan"], trust=0.9), code="TESTB")
    fac(other, "run")
    assert other.wait_until(lambda: other.model.done and not other.busy, 200)
    assert table_story(other.recorder, other.outcome["area"], view.deadlines) != story  # not canned

    replay = run_pair(room.settings, "trust", 0.3, 0.8)
    why = replay_story(replay)
    wa = next(o for o in replay.runs[0].recorder.offers if o.agreed).week
    wb = next(o for o in replay.runs[1].recorder.offers if o.agreed).week
    assert (
        f"week {min(wa, wb)} against week {max(wa, wb)}" in why[0]
    ) or f"Both runs first agreed in week {wa}" in why[0]
    assert any("trust bonus" in s for s in why)


def test_team_seats_a_lead_moves_members_see_the_brief_and_take_over():
    from bettercare.workshop.views import brief

    room = Room(Settings.for_preset("hospitals-in", ["Wigan"], team_size=3), code="TESTA")
    ann = join(room, "Ann", 0, "a")
    bo = join(room, "Bo", 0, "b")
    join(room, "Cy", 0, "c")
    out = room.act(Action("join", seat=0, client="d", data={"code": "TESTA", "name": "Di"}))
    assert not out.ok and "team is full (3 laptops)" in out.message
    assert [p.name for p in room.team(0)] == ["Ann", "Bo", "Cy"]
    assert brief(room, bo, 0) is not None  # members see the brief
    fac(room, "step")
    t = turn(room, 0)
    form = room.plan_to_form(room.suggestion(0))
    out = room.act(Action("propose", bo, seat=0, turn=t.id, week=t.week, data=form))
    assert not out.ok and out.message.startswith("Ann moves for Wigan Council")
    assert room.act(Action("leave", ann)).ok  # the lead goes: the longest-serving member leads
    assert room.holder(0).name == "Bo"
    t = turn(room, 0)
    assert room.act(Action("propose", bo, seat=0, turn=t.id, week=t.week, data=form)).ok
    assert room.snapshot().seats[0].team == ("Bo", "Cy")
    assert fac(room, "free_seat", seat=0).ok and room.team(0) == []
    room.close()


def test_team_advice_members_suggest_and_vote_only_when_allowed_and_only_their_team_sees_it():
    room = Room(Settings.for_preset("hospitals-in", ["Wigan"], team_size=3), code="TESTA")
    ann = join(room, "Ann", 0, "a")
    di = join(room, "Di", 0, "d")
    bo = join(room, "Bo", 1, "b")
    cy = join(room, "Cy", 1, "c")
    fac(room, "step")
    t = turn(room, 0)
    form = room.plan_to_form(room.suggestion(0))
    suggest = Action("suggest", di, seat=0, turn=t.id, week=t.week, data=form)
    out = room.act(suggest)
    assert not out.ok and "Team advice is off" in out.message
    assert fac(room, "configure", data={"team_advice": "yes"}).message.startswith("team advice must be on or off")
    assert fac(room, "configure", data={"team_advice": True}).ok and room.settings.team_advice
    assert room.act(Action("suggest", di, seat=0, turn=t.id, week=t.week, data=form)).ok
    bad = {**form, "shares_pct": [100.0, 0.0, 0.0, 0.0]}
    out = room.act(Action("suggest", di, seat=0, turn=t.id, week=t.week, data=bad))
    assert not out.ok and out.message.startswith("Suggestion refused:")
    out = room.act(Action("suggest", ann, seat=0, turn=t.id, week=t.week, data=form))
    assert not out.ok and "You move for this seat yourself" in out.message
    out = room.act(Action("suggest", cy, seat=0, turn=t.id, week=t.week, data=form))
    assert not out.ok and "your own seat" in out.message
    advice = room.team_advice(ann, 0)
    assert [a["name"] for a in advice] == ["Di"]
    np.testing.assert_allclose(advice[0]["plan"], room.plan_from(form))
    assert room.team_advice(bo, 0) is None  # another seat's team does not see it
    assert room.act(Action("propose", ann, seat=0, turn=t.id, week=t.week, data=form)).ok
    out = room.act(Action("suggest", di, seat=0, turn=t.id, week=t.week, data=form))
    assert not out.ok  # the lead has moved: the turn takes no more advice
    r = turn(room, 1)
    out = room.act(Action("vote", cy, seat=1, turn=r.id, week=r.week, data={"accept": "no"}))
    assert not out.ok and out.message == "Say accept or reject."
    assert room.act(Action("vote", cy, seat=1, turn=r.id, week=r.week, data={"accept": False})).ok
    assert [(a["name"], a["accept"]) for a in room.team_advice(bo, 1)] == [("Cy", False)]
    assert room.team_advice(ann, 1) is None
    out = room.act(Action("vote", cy, seat=1, turn=r.id + 1, week=r.week, data={"accept": True}))
    assert not out.ok and "That turn is over" in out.message
    assert room.act(Action("respond", bo, seat=1, turn=r.id, week=r.week, data={"accept": True})).ok  # Bo decides
    room.close()


def test_a_failing_page_shows_a_plain_message_and_no_traceback():
    import ipyvuetify as v
    import solara

    from bettercare.workshop.pages.common import guarded

    @solara.component
    def Broken():
        raise RuntimeError("secret /srv/bettercare/path")

    box, rc = solara.render(guarded(Broken)(), handle_error=False)
    alerts = [a.widget.children for a in rc.find(v.Alert)]
    assert alerts == [["Something went wrong on this page, and nothing was changed. Press the button to go on."]]


def test_a_taken_port_gets_one_error_line(tmp_path):
    import os
    import socket
    import subprocess
    import sys

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        r = subprocess.run(
            [sys.executable, "-m", "bettercare.workshop", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=120,
            env=dict(os.environ, BETTERCARE_WORKSHOP_SESSIONS=str(tmp_path)),
        )
    assert r.returncode == 2 and r.stderr.startswith(f"error: cannot listen on 127.0.0.1:{port}"), r.stderr
