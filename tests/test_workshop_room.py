"""The workshop room without a browser: seats, tokens, turns, checks, the worker, exports, replays."""

from __future__ import annotations

import io
import re
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bettercare.vocabulary.plan import FLOORS, LINES, validate
from bettercare.workshop import assets, story
from bettercare.workshop.replay import run_pair
from bettercare.workshop.room import Action, Room, Settings, new_action_id
from bettercare.workshop.server import is_loopback

ROOT = Path(__file__).resolve().parent.parent
WAIT = 10.0


@pytest.fixture
def room():
    """Wigan with the hospital left out: the council (seat 0) and the CCG (seat 1)."""
    r = Room(Settings.for_preset("hospitals-out", ["Wigan"]), code="TESTA")
    r.leave_grace = 0
    yield r
    with r._cond:
        r._halt()


def fac(room, kind, **kw):
    return room.act(Action(kind, room.facilitator_token, **kw))


def join(room, name, seat, code="TESTA"):
    out = room.act(Action("join", seat=seat, data={"code": code, "name": name}))
    assert out.ok, out.message
    return out.data["token"]


def turn(room, seat):
    assert room.wait_until(lambda: room.open_turn(seat) is not None, WAIT), room.waiting_text()
    return room.open_turn(seat)


def idle(room):
    assert room.wait_until(lambda: not room.busy, WAIT), room.waiting_text()


def propose(room, token, seat, t, form=None, **kw):
    form = form if form is not None else room.plan_to_form(room.suggestion(seat))
    return room.act(Action("propose", token, seat=seat, turn=t.id, week=t.week, data=form, **kw))


def respond(room, token, seat, t, accept, **kw):
    return room.act(Action("respond", token, seat=seat, turn=t.id, week=t.week, data={"accept": accept}, **kw))


# --- joining and identity --------------------------------------------------------------------------


def test_room_starts_with_parties_and_a_code(room):
    assert [p.kind for p in room.table.parties] == ["council", "ccg"]
    assert room.code == "TESTA"
    assert room.free_seats() == [0, 1]
    assert len(room.facilitator_token) >= 16


def test_join_needs_the_room_code_a_name_and_a_free_seat(room):
    assert not room.act(Action("join", seat=0, data={"code": "WRONG", "name": "Ann"})).ok
    assert "code" in room.act(Action("join", seat=0, data={"code": "WRONG", "name": "Ann"})).message
    assert not room.act(Action("join", seat=0, data={"code": "TESTA", "name": "  "})).ok
    assert not room.act(Action("join", seat=7, data={"code": "TESTA", "name": "Ann"})).ok
    token = join(room, "Ann", 0, code=" testa ")  # case and spaces forgiven
    taken = room.act(Action("join", seat=0, data={"code": "TESTA", "name": "Bo"}))
    assert not taken.ok and "taken" in taken.message
    again = room.act(Action("join", token, seat=1, data={"code": "TESTA", "name": "Ann"}))
    assert not again.ok and "already sit" in again.message
    assert room.seat_of(token) == 0 and room.free_seats() == [1]


def test_facilitator_actions_need_the_token(room):
    for kind in ("step", "reset", "configure", "play", "skip", "replay"):
        out = room.act(Action(kind, "not-the-token"))
        assert not out.ok and "facilitator" in out.message
    token = join(room, "Ann", 0)
    assert not room.act(Action("step", token)).ok  # a participant is not the facilitator
    assert fac(room, "step").ok


def test_unknown_action_is_refused(room):
    assert not room.act(Action("dance", room.facilitator_token)).ok


# --- turns, checks and the wait for people ----------------------------------------------------------


def test_people_reach_an_agreement_at_their_table(room):
    ann, bo = join(room, "Ann", 0), join(room, "Bo", 1)
    assert fac(room, "step", tick=0).ok
    t = turn(room, 0)
    assert t.kind == "propose" and t.week == 0
    assert room.snapshot().waiting.startswith("waiting for Wigan Council (Ann) to propose")
    assert propose(room, ann, 0, t).ok
    t1 = turn(room, 1)
    assert t1.kind == "respond"
    assert "Ann" in room.snapshot().current
    assert respond(room, bo, 1, t1, False).ok
    idle(room)
    assert room.table.agreed is None
    assert fac(room, "step", tick=1).ok
    t = turn(room, 1)
    assert t.kind == "propose"
    assert propose(room, bo, 1, t).ok
    t0 = turn(room, 0)
    assert respond(room, ann, 0, t0, True).ok
    idle(room)
    view = room.snapshot()
    assert view.agreed_week == 1
    assert "Agreed." in view.lines[0][1] and "(Bo)" in view.lines[0][1] and "(Ann)" in view.lines[0][1]
    assert [o.people for o in view.offers] == [{0: "Ann", 1: "Bo"}, {0: "Ann", 1: "Bo"}]


def test_the_room_is_thinking_only_inside_a_step_that_asks_nobody(room):
    """Pages hold their render while `thinking`: it must be false whenever someone is asked, or
    their turn would show late; and true while the model computes, or nothing is saved."""
    ann = join(room, "Ann", 0)
    seen = []
    step = room.model.step

    def watched_step():
        seen.append(("start", room.thinking))
        step()
        seen.append(("end", room.thinking))

    room.model.step = watched_step
    assert not room.thinking
    assert fac(room, "step", tick=0).ok
    t = turn(room, 0)
    assert not room.thinking  # Ann is asked to propose
    assert propose(room, ann, 0, t).ok
    idle(room)
    assert seen == [("start", True), ("end", True)]
    assert not room.thinking  # the step is over


def test_a_person_acts_only_for_their_own_seat(room):
    ann, bo = join(room, "Ann", 0), join(room, "Bo", 1)
    fac(room, "step")
    t = turn(room, 0)
    out = propose(room, bo, 0, t)
    assert not out.ok
    assert out.message == "You sit as NHS Wigan Borough CCG; you cannot act for Wigan Council."
    assert not propose(room, "nobody", 0, t).ok
    assert room.open_turn(0) is t and t.answer is None
    assert propose(room, ann, 0, t).ok
    t1 = turn(room, 1)
    out = respond(room, ann, 1, t1, True)
    assert not out.ok and "you cannot act for NHS Wigan Borough CCG" in out.message
    assert t1.answer is None


@pytest.mark.parametrize(
    "change, words",
    [
        (lambda f: {**f, "shares_pct": [s + 2 for s in f["shares_pct"]]}, "add up to 110.0%"),
        (lambda f: {**f, "council_topup_m": 999.0}, "council's top-up must be between"),
        (lambda f: {**f, "ambition_pct": 60.0}, "ambition must be between"),
        (
            lambda f: {**f, "shares_pct": [-5.0, *f["shares_pct"][1:4], f["shares_pct"][4] + 5 + f["shares_pct"][0]]},
            "negative",
        ),
        (
            lambda f: {**f, "council_topup_m": 0.0, "ccg_topup_m": 0.0, "shares_pct": [10.0, 10.0, 40.0, 20.0, 20.0]},
            "below its mandated floor",
        ),
        (lambda f: {**f, "shares_pct": ["a lot", 1, 2, 3, 4]}, "as numbers"),
        (lambda f: {k: v for k, v in f.items() if k != "ambition_pct"}, "as numbers"),
    ],
)
def test_an_invalid_plan_is_refused_with_the_reason(room, change, words):
    ann = join(room, "Ann", 0)
    fac(room, "step")
    t = turn(room, 0)
    n_plans = len(room.table.plans)
    out = propose(room, ann, 0, t, form=change(room.plan_to_form(room.suggestion(0))))
    assert not out.ok
    assert out.message.startswith("Plan refused:") and words in out.message, out.message
    assert t.answer is None and len(room.table.plans) == n_plans
    assert propose(room, ann, 0, t).ok  # the turn is still open for a valid plan


def test_a_duplicated_or_stale_action_does_nothing(room):
    ann, bo = join(room, "Ann", 0), join(room, "Bo", 1)
    fac(room, "step")
    t = turn(room, 0)
    aid = new_action_id()
    assert propose(room, ann, 0, t, action_id=aid).ok
    dup = propose(room, ann, 0, t, action_id=aid)
    assert not dup.ok and dup.data.get("duplicate")
    again = propose(room, ann, 0, t)  # a second click with a new id: the turn is answered
    assert not again.ok
    t1 = turn(room, 1)
    stale = room.act(Action("respond", bo, seat=1, turn=t1.id - 1, week=t1.week, data={"accept": True}))
    assert not stale.ok and "over" in stale.message
    wrong_week = room.act(Action("respond", bo, seat=1, turn=t1.id, week=t1.week + 3, data={"accept": True}))
    assert not wrong_week.ok
    assert respond(room, bo, 1, t1, True).ok
    idle(room)
    late = respond(room, bo, 1, t1, False)
    assert not late.ok
    assert len([o for o in room.snapshot().offers]) == 1
    stale_step = fac(room, "step", tick=0)  # the facilitator saw step 0; the room is at step 1
    assert not stale_step.ok and room.tick == 1


def test_empty_seats_are_played_by_agents(room):
    fac(room, "step")
    idle(room)
    assert room.tick == 1 and len(room.snapshot().offers) == 1
    assert room.snapshot().offers[0].people == {}


def test_a_person_who_leaves_is_replaced_by_the_agent(room):
    ann = join(room, "Ann", 0)
    fac(room, "step")
    turn(room, 0)
    assert room.act(Action("leave", ann)).ok
    idle(room)
    assert room.free_seats() == [0, 1]
    assert any("The seat is empty" in e.text for e in room.log)


def test_closing_every_page_gives_the_seat_back_to_the_agent_and_a_reload_gets_it_back(room):
    ann = join(room, "Ann", 0)
    room.attach(ann, "k1")
    room.attach(ann, "k2")
    room.detach(ann, "k1")
    assert room.seat_of(ann) == 0  # one page still open
    room.detach(ann, "k2")
    assert room.seat_of(ann) is None and room.free_seats() == [0, 1]
    room.attach(ann, "k3")  # the same link opened again: the seat is still free
    assert room.seat_of(ann) == 0


def test_facilitator_moves_on_and_the_turn_timer(room):
    join(room, "Ann", 0)
    fac(room, "step")
    t = turn(room, 0)
    assert fac(room, "skip").ok
    idle(room)
    assert t.closed and t.answer is None
    assert not fac(room, "skip").ok  # nobody is waited for now
    assert fac(room, "timer", data={"seconds": 1}).ok
    fac(room, "step")
    started = time.time()
    turn(room, 1) if room.table.proposer == 1 else None
    idle(room)
    assert time.time() - started < 5
    assert any("Time ran out" in e.text for e in room.log)


def test_play_run_and_a_whole_run_with_agents_only(room):
    assert fac(room, "configure", data={"play_delay": 0.0}).ok
    assert fac(room, "run").ok
    assert room.wait_until(lambda: room.model.done and not room.busy, 30)
    view = room.snapshot()
    assert view.done and view.outcome is not None
    cards = story.outcome_cards(view.outcome["area"], view.outcome["months"])
    assert [c[0] for c in cards] == ["Emergency admissions", "Delayed days", "Money", "Trust", "The plan"]
    adm = view.outcome["area"]["realised_emergency_admissions_change"]
    assert cards[0][1].endswith(" ▲ more: worse" if adm > 0.5 else " ▼ fewer: better" if adm < -0.5 else "")
    assert not fac(room, "step").ok  # the run is over


def test_pause_stops_playing(room):
    fac(room, "configure", data={"play_delay": 0.2})
    fac(room, "play")
    assert room.wait_until(lambda: room.tick >= 2, WAIT)
    assert fac(room, "pause").ok
    idle(room)
    tick = room.tick
    time.sleep(0.5)
    assert room.tick == tick and not room.model.done


# --- settings -----------------------------------------------------------------------------------------


def test_preset_and_areas_rebuild_the_room_before_the_first_step(room):
    assert fac(room, "configure", data={"preset": "co-located"}).ok
    assert room.settings.preset == "co-located" and room.settings.areas == ["Sunderland"]
    assert room.model.params.trust.colocation == 0.8
    assert room.snapshot().area_name == "Sunderland"
    assert fac(room, "configure", data={"areas": ["Wigan", "Kent"], "focus": "Kent"}).ok
    assert room.snapshot().area_name == "Kent" and room.model.n_areas == 2
    assert not fac(room, "configure", data={"areas": ["Atlantis"]}).ok
    assert not fac(room, "configure", data={"trust": 1.5}).ok
    assert not fac(room, "configure", data={"focus": "Devon"}).ok
    assert not fac(room, "configure", data={"colour": "red"}).ok


def test_trust_and_compromise_apply_live_other_settings_wait_for_reset(room):
    fac(room, "step")
    idle(room)
    before = room.mean_trust()
    out = fac(room, "configure", data={"trust": 0.9})
    assert out.ok and "applied now" in out.message
    assert room.mean_trust() == pytest.approx(0.9)
    assert room.snapshot().mean_trust == pytest.approx(0.9) and before != pytest.approx(0.9)
    betas = {c: o.beta for c, o in room.model.orgs.items()}
    assert fac(room, "configure", data={"compromise": 2.0}).ok
    assert all(room.model.orgs[c].beta == pytest.approx(2 * b) for c, b in betas.items())
    out = fac(room, "configure", data={"deadline_weeks": 8})
    assert out.ok and room.pending_settings and room.model.w1 == 16
    assert fac(room, "reset").ok
    assert room.model.w1 == 8 and room.tick == 0 and not room.pending_settings
    assert room.model.params.trust.initial == 0.9


def test_reset_keeps_people_in_seats_that_still_exist(room):
    ann = join(room, "Ann", 0)
    fac(room, "step")
    turn(room, 0)
    assert fac(room, "reset").ok  # while the model waits for Ann
    assert room.seat_of(ann) == 0 and room.tick == 0 and not room.busy
    assert fac(room, "configure", data={"preset": "england-2014", "areas": ["Kent"]}).ok
    assert room.seat_of(ann) is None  # Wigan Council is not at Kent's table


def test_free_seat(room):
    ann = join(room, "Ann", 0)
    assert fac(room, "free_seat", seat=0).ok
    assert room.seat_of(ann) is None
    assert not fac(room, "free_seat", seat=0).ok


# --- plans from sliders ---------------------------------------------------------------------------------


def test_slider_values_of_every_candidate_plan_make_a_valid_plan(room):
    prm = room.model.params
    for plan in room.model.candidates[:200]:
        form = room.plan_to_form(plan)
        assert sum(form["shares_pct"]) == pytest.approx(100.0)
        vec = room.plan_from(form)
        assert validate(vec, prm.money.max_topup, prm.planning.ambition_max) is None
        assert np.allclose(vec[LINES], plan[LINES], atol=2e-3)


def test_a_person_scores_only_their_own_plans(room):
    ann = join(room, "Ann", 0)
    form = room.plan_to_form(room.suggestion(0))
    assert room.score(ann, 0, form).ok
    assert 0 <= room.score(ann, 0, form).data["score"] <= 120
    assert not room.score(ann, 1, form).ok
    bad = {**form, "shares_pct": [0, 0, 0, 0, 0]}
    assert "add up to" in room.score(ann, 0, bad).message


def test_brief_is_private(room):
    from bettercare.workshop.views import brief

    ann, bo = join(room, "Ann", 0), join(room, "Bo", 1)
    b = brief(room, ann, 0)
    assert b["name"] == "Wigan Council" and b["priorities"] and b["pressures"]
    assert 0 <= b["bottom_line"] <= 100
    assert brief(room, ann, 1) is None and brief(room, bo, 0) is None


# --- words, exports, replays ------------------------------------------------------------------------------


def test_money_words():
    assert story.gbp(4.12e6) == "£4.1m"
    assert story.gbp(360_000) == "£0.4m"
    assert story.gbp(35_000) == "£35k"
    assert story.gbp(-2.3e6) == "-£2.3m"


def test_the_acute_trust_says_it_would_lose_activity_income():
    from bettercare.vocabulary.plan import Slot

    r = Room(Settings.for_preset("england-2014", ["Wigan"], hospitals=1.0))
    t = r.table
    acute = [i for i, p in enumerate(t.parties) if p.kind == "acute"][0]
    best = t.plans[int(np.argmax(t.utility[acute]))]
    plan = best.copy()  # the trust's favourite plan, with a bolder cut in admissions
    plan[Slot.AMBITION] = min(best[Slot.AMBITION] + 0.05, r.model.params.planning.ambition_max)
    text = story.reason(r.model, t, acute, plan)
    assert re.match(r"it would lose £\d+\.\dm of activity income", text), text
    head = story.headline(plan, r.recorder.minimum_gbp)
    assert re.match(r"a £\d+\.\dm pool", head) and f"{100 * plan[Slot.AMBITION]:.1f}%" in head


def test_session_export(room):
    ann, bo = join(room, "Ann", 0), join(room, "Bo", 1)
    fac(room, "step")
    propose(room, ann, 0, turn(room, 0))
    respond(room, bo, 1, turn(room, 1), False)
    idle(room)
    fac(room, "skip")
    fac(room, "replay", data={"parameter": "trust", "a": 0.3, "b": 0.8})
    z = zipfile.ZipFile(io.BytesIO(__import__("bettercare.workshop.export", fromlist=["x"]).session_zip(room)))
    names = set(z.namelist())
    assert {
        "offers.csv",
        "log.csv",
        "settings.json",
        "dance.png",
        "trust_network.png",
        "pool.png",
        "trust_over_time.png",
        "replay_A_dance.png",
        "replay_trust_over_time.png",
    } <= names
    offers = pd.read_csv(z.open("offers.csv"))
    assert len(offers) == 2 and set(offers.played_by) == {"Ann", "Bo"}
    assert set(offers.response) == {"proposed", "reject"}
    assert offers.in_words.str.contains("Wigan Council \\(Ann\\) proposes").all()
    for name in names:
        if name.endswith(".png"):
            assert z.read(name)[:8] == b"\x89PNG\r\n\x1a\n"


def test_side_by_side_replay_shows_trust_apart():
    s = Settings.for_preset("england-2014", ["Wigan"])
    rep = run_pair(s, "trust", 0.3, 0.8)
    a, b = rep.runs
    assert a.frames[-1].phase == "done" and b.frames[-1].phase == "done"
    assert a.trust_series()[0][1] == pytest.approx(0.3) and b.trust_series()[0][1] == pytest.approx(0.8)
    assert a.outcome["area"]["trust_end"] < b.outcome["area"]["trust_end"]
    assert rep.length == max(len(a.frames), len(b.frames))
    with pytest.raises(ValueError):
        run_pair(s, "trust", 0.3, 1.8)
    with pytest.raises(ValueError):
        run_pair(s, "weather", 0.3, 0.8)


# --- starting the app ---------------------------------------------------------------------------------------


def test_fetch_script_fetches_what_the_app_checks():
    script = (ROOT / "scripts" / "fetch_workshop_assets.sh").read_text()
    for spec in assets.DEFAULT_REQUIRED + assets.DEFAULT_OPTIONAL:
        assert f'"{spec}"' in script  # the script's own list, for when there is no venv
    assert "-m bettercare.workshop.assets" in script
    required, optional = assets.packages()
    names = {s.rsplit("@", 1)[0] for s in required}
    assert names == {"@widgetti/solara-vuetify-app", "requirejs", "font-awesome", "echarts"}  # echarts: live charts
    out = subprocess.run(
        [sys.executable, "-m", "bettercare.workshop.assets"], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == required + optional


def test_loopback():
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.10")


def test_command_without_assets_says_how_to_fetch_them(tmp_path):
    env = {"SOLARA_ASSETS_PROXY_CACHE_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    r = subprocess.run(
        [sys.executable, "-m", "bettercare.workshop", "--port", "8799"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert r.returncode == 2
    assert r.stderr.startswith("error: the workshop's browser assets are missing")
    assert "fetch_workshop_assets.sh" in r.stderr


def test_floors_are_what_the_room_checks():
    r = Room(Settings.for_preset("hospitals-out", ["Wigan"]))
    m = r.recorder.minimum_gbp
    assert r.plan_limits()["minimum_gbp"] == m
    with pytest.raises(ValueError, match="adult social care gets"):
        r.plan_from(
            {
                "council_topup_m": 0,
                "ccg_topup_m": 0,
                "shares_pct": [FLOORS[0] * 100 - 1, 30, 30, 10, 100 - (FLOORS[0] * 100 - 1) - 70],
                "ambition_pct": 1,
            }
        )


def test_the_command_registers_on_a_typer_app_and_imports_nothing_heavy():
    code = (
        "import sys, typer; from typer.testing import CliRunner; "
        "from bettercare.workshop.cli import workshop; app = typer.Typer(); app.command()(workshop); "
        "app.command('other')(lambda: None); "
        "r = CliRunner().invoke(app, ['workshop', '--help']); assert r.exit_code == 0, r.output; "
        "assert '--room-code' in r.output and '--host' in r.output, r.output; "
        "heavy = [m for m in ('solara', 'mesa', 'matplotlib', 'pandas') if m in sys.modules]; "
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
