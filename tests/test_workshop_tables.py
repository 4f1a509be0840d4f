"""People at three tables in one room: they talk at the same time, the result does not depend on
who answers first, a session resumes exactly, and tables that share an organisation are refused."""

from __future__ import annotations

from bettercare.workshop.room import Action, Room, Settings
from bettercare.workshop.store import SessionStore
from tests.workshop_room import WAIT, fac, idle, join, until

AREAS = ["Wigan", "Bolton", "Salford"]


def three_tables(**kw) -> Room:
    room = Room(Settings.for_preset("hospitals-in", AREAS, tables=AREAS[1:]), code="THREE", **kw)
    room.leave_grace = 0
    return room


def seat_people(room) -> dict[int, str]:
    """One person at the first seat (the council, who proposes in week 0) of each table."""
    return {s: join(room, f"P{k}", s, f"browser-{k}") for k, s in enumerate(room.seats_at(a)[0] for a in room.people)}


def proposals_open(room, n: int) -> bool:
    return room.wait_until(lambda: len([t for t in room.waiting_for() if t.kind == "propose"]) == n, WAIT)


def propose_all(room, people: dict[int, str], order: list[int]) -> None:
    for seat in order:
        t = room.open_turn(seat)
        form = room.plan_to_form(room.suggestion(seat), seat)
        form["ambition_pct"] = round(form["ambition_pct"] * 0.5, 1)  # not the agent's own plan
        out = room.act(Action("propose", people[seat], seat=seat, turn=t.id, week=t.week, data=form))
        assert out.ok, out.message


def agents_answer(room):
    while not room.wait_until(lambda: not room.busy or room.waiting_for(), WAIT) or room.busy:
        fac(room, "skip")


def state_of(room):
    out = {"tick": room.tick, "week": room.model.week_no, "status": [str(s) for s in room.model.status]}
    for a, rec in room.recorders.items():
        rec.pull()
        out[rec.area_name] = {
            "offers": [
                (o.oid, o.week, o.proposer, o.responses, o.plan.round(9).tolist(), o.people) for o in rec.offers
            ],
            "trust": rec.trust_now().round(12).tolist(),
        }
    return out


def test_three_tables_wait_for_their_people_at_the_same_time_and_order_does_not_matter():
    rooms = []
    for order in (lambda s: s, lambda s: s[::-1]):
        room = three_tables()
        assert [room.recorders[a].area_name for a in room.people] == AREAS
        assert room.centre_seat == sum(room.model.tables[a].n for a in room.people)
        people = seat_people(room)
        fac(room, "step")
        # every table's proposer is asked at once: nobody waits for another table
        assert proposals_open(room, 3), room.waiting_text()
        propose_all(room, people, order(list(people)))
        idle(room)
        for seat, token in people.items():
            rec = room.recorders[room.area_of_seat(seat)]
            assert rec.offers[-1].people.get(0) == room.participants[token].name
        for _ in range(2):
            fac(room, "step")
            agents_answer(room)
        rooms.append(state_of(room))
        room.close()
    assert rooms[0] == rooms[1]
    assert all(len(rooms[0][a]["offers"]) >= 1 for a in AREAS)


def test_seats_pages_and_plans_follow_their_own_table():
    room = three_tables()
    bolton = room.people[1]
    seat = room.seats_at(bolton)[0]
    assert room.table_of(seat) is room.model.tables[bolton]
    assert room.party_name(seat) == room.model.tables[bolton].parties[0].name
    view = room.snapshot(bolton)
    assert view.area_name == "Bolton" and [s.index for s in view.seats] == room.seats_at(bolton)
    assert [name for _, name, _ in view.tables] == AREAS
    assert room.plan_limits(seat)["minimum_gbp"] == float(room.model.minimum_gbp[bolton])
    assert room.plan_limits(seat)["minimum_gbp"] != room.plan_limits(0)["minimum_gbp"]
    room.close()


def test_a_live_change_while_tables_talk_waits_for_the_steps_end():
    room = three_tables()
    people = seat_people(room)
    fac(room, "step")
    assert proposals_open(room, 3)
    out = fac(room, "configure", data={"trust": 0.9})
    assert out.ok and "when this step ends" in out.message
    assert room.model.params.trust.initial != 0.9
    propose_all(room, people, list(people))
    idle(room)
    assert room.model.params.trust.initial == 0.9 and room.settings.trust == 0.9
    room.close()


def test_a_three_table_session_resumes_exactly(tmp_path):
    path = tmp_path / "three.sqlite"
    room = three_tables(store=SessionStore(path))
    people = seat_people(room)
    fac(room, "step")
    assert proposals_open(room, 3)
    propose_all(room, people, list(people)[::-1])
    idle(room)
    fac(room, "step")
    agents_answer(room)
    before = state_of(room)
    room.close()

    again = Room(store=SessionStore(path))
    assert again.settings.tables == AREAS[1:]
    assert state_of(again) == before
    assert {s: again.seat_of(t) for s, t in people.items()} == {s: s for s in people}
    again.close()


def test_tables_that_share_an_organisation_are_refused():
    room = Room(Settings.for_preset("hospitals-in", ["Wigan"]), code="SHARE")
    out = fac(room, "configure", data={"areas": ["Hartlepool", "Stockton-on-Tees"]})
    assert out.ok, out.message
    out = fac(room, "configure", data={"tables": ["Stockton-on-Tees"]})
    assert not out.ok and "share no organisation" in out.message
    assert room.people == [room.focus] and room.settings.tables == []
    out = fac(room, "configure", data={"tables": ["Kent"]})
    assert not out.ok and "Kent" in out.message
    room.close()


def test_a_step_cut_short_at_three_tables_keeps_what_people_said(tmp_path):
    path = tmp_path / "cut3.sqlite"
    room = three_tables(store=SessionStore(path))
    people = seat_people(room)
    fac(room, "step")
    assert proposals_open(room, 3)
    first, second, last = list(people)[::-1]
    before = {s: len(room.table_of(s).plans) for s in (first, second)}
    propose_all(room, people, [first, second])  # the server stops while the third thinks

    def taken() -> bool:
        # an answer is on file once its table has taken it: the turn closes, the table records
        # the plan, then the answer is journaled; the server is stopped only after all three
        on_file = [d for k, d in room.store.journal(room.epoch) if k == "answer" and d.get("kind") == "propose"]
        return len(on_file) == 2 and all(len(room.table_of(s).plans) > before[s] for s in (first, second))

    until(taken, "the two answers on file")
    plans = {s: room.table_of(s).plans[-1].copy() for s in (first, second)}
    counts = {s: len(room.table_of(s).plans) for s in (first, second)}
    room.store.close()

    again = Room(store=SessionStore(path))
    assert proposals_open(again, 1) and again.open_turn(last) is not None  # only the third is asked again
    # the tables talk at once, so the third may ask before the other two have replayed their answers
    until(lambda: all(len(again.table_of(s).plans) >= counts[s] for s in counts), "the replay of two tables")
    for s in (first, second):
        assert len(again.table_of(s).plans) == counts[s]
        assert (again.table_of(s).plans[-1] == plans[s]).all()
    propose_all(again, people, [last])
    idle(again)
    for s in people:
        assert again.recorders[again.area_of_seat(s)].offers[-1].people.get(0) == again.participants[people[s]].name
    again.close()


def test_the_download_and_the_debrief_tell_every_tables_story():
    import io
    import zipfile

    import pandas as pd

    from bettercare.workshop.export import session_zip

    room = three_tables()
    people = seat_people(room)
    fac(room, "step")
    assert proposals_open(room, 3)
    propose_all(room, people, list(people))
    idle(room)
    fac(room, "run")
    agents_answer(room)
    assert room.wait_until(lambda: room.outcome is not None, 60), room.waiting_text()
    z = zipfile.ZipFile(io.BytesIO(session_zip(room)))
    offers = pd.read_csv(z.open("offers.csv"))
    assert list(dict.fromkeys(offers.area)) == AREAS
    for k, area in enumerate(AREAS):
        mine = offers[(offers.area == area) & (offers.played_by == f"P{k}")]
        assert len(mine) >= 1 and (mine.week == 0).any()
    text = z.read("debrief.txt").decode()
    assert [line for line in text.splitlines() if line.startswith("What happened")] == [
        f"What happened at the {a} table" for a in AREAS
    ]
    outcome = pd.read_csv(z.open("outcome.csv"))
    assert list(outcome.area_name) == AREAS
    room.close()
