"""What the public views show, taken from the room in one go under its lock.

A `TableView` is plain data: pages and charts read it without touching the model, so a page
can render while the model steps in its worker thread.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from .history import KIND_LABEL, OfferRow, Party, mean_off_diagonal
from .story import (
    PHASE_LABEL,
    STATUS_LABEL,
    countdown,
    headline,
    offer_sentence,
    phase_event,
    pressures,
    priorities,
    trust_lines,
    weeks_left,
)


@dataclass(frozen=True)
class SeatView:
    index: int
    code: str
    name: str
    kind: str
    label: str
    person: str | None
    turn_id: int | None
    turn_kind: str | None
    turn_week: int | None
    turn_deadline: float | None
    agent_note: str = ""  # the agent answered for the person in this seat lately, and why
    team: tuple[str, ...] = ()  # everyone at the seat: the lead first


@dataclass(frozen=True, eq=False)  # compared by identity: a new snapshot always re-renders
class TableView:
    code: str
    join_url: str
    team_size: int
    version: int
    tick: int
    week: int
    month: int
    phase: str
    phase_label: str
    countdown: str
    weeks_left: int | None
    done: bool
    busy: bool
    playing: bool
    error: str | None
    pending_settings: bool
    settings: Any
    area_name: str
    areas: list[tuple[str, str]]  # (name, status in words)
    seats: list[SeatView]  # this table's seats (their indices are the room's seat numbers)
    outsiders: list[str]
    waiting: str
    current: str | None  # the offer being considered right now, in words
    current_plan: np.ndarray | None
    lines: list[tuple[int, str]]  # (week, sentence), newest first
    parties: list[Party]
    offers: list[OfferRow]
    trust: np.ndarray
    mean_trust: float
    trust_history: list[tuple[int, float]]  # (tick, mean trust at the table)
    plan_now: np.ndarray | None
    plan_kind: str  # "offer" | "agreed" | "imposed" | "none"
    minimum_gbp: float
    deadlines: dict[str, int]
    status: str
    agreed_week: int | None
    outcome: dict[str, Any] | None
    recorder_id: int = 0
    generation: int = 0
    log: list[Any] = field(default_factory=list)
    centre: SeatView | None = None  # the centre's assurance seat, after the tables' seats
    assurance: dict[str, Any] = field(default_factory=dict)  # see `assurance_view`
    area: int = 0  # the area index of this table
    tables: list[tuple[int, str, list[SeatView]]] = field(default_factory=list)  # every table people sit at

    def seat(self, i: int | None) -> SeatView | None:
        """The seat numbered `i` if it is at this table (or the centre's), else None."""
        for s in [*self.seats, self.centre]:
            if s is not None and s.index == i:
                return s
        return None


def _sentences(room, area: int) -> dict[int, str]:
    """Each offer's sentence, made once (offer ids are unique across the model's tables)."""
    cache = getattr(room, "_sentences", None)
    if cache is None or getattr(room, "_sentences_model", None) is not room.model:
        cache = room._sentences = {}
        room._sentences_model = room.model
    rec = room.recorders[area]
    table = room.model.tables[area]
    prev_plan = None
    for row in rec.offers:
        if row.oid not in cache:
            cache[row.oid] = offer_sentence(room.model, table, rec.parties, row, prev_plan, rec.minimum_gbp)
        prev_plan = row.plan
    return cache


def seat_views(room, area: int) -> list[SeatView]:
    """The seats at one table people sit at, numbered as the room numbers them."""
    m = room.model
    rec = room.recorders[area]
    seats = []
    for i in room.seats_at(area):
        p = rec.parties[room.party_of(i)]
        person = room.holder(i)
        turn = room.open_turn(i)
        seats.append(
            SeatView(
                i,
                p.code,
                p.name,
                p.kind,
                KIND_LABEL.get(p.kind, p.kind),
                person.name if person else None,
                turn.id if turn else None,
                turn.kind if turn else None,
                turn.week if turn else None,
                turn.deadline if turn else None,
                agent_note(rec, p.code, int(m.week_no)),
                tuple(q.name for q in room.team(i)),
            )
        )
    return seats


def table_view(room, area: int | None = None) -> TableView:
    m = room.model
    area = room.focus if area is None else area
    rec = room.recorders[area]
    rec.pull()
    t = m.tables[area]
    here = set(room.seats_at(area))
    seats = seat_views(room, area)
    tables = [(a, room.recorders[a].area_name, seats if a == area else seat_views(room, a)) for a in room.people]
    c = room.centre_seat
    person, turn = room.holder(c), room.open_turn(c)
    centre = SeatView(
        c,
        m.centre.code,
        room.party_name(c),
        "centre",
        KIND_LABEL["centre"],
        person.name if person else None,
        turn.id if turn else None,
        turn.kind if turn else None,
        turn.week if turn else None,
        turn.deadline if turn else None,
        agent_note(rec, m.centre.code, int(m.week_no), "the stress test's own verdict stood"),
        tuple(q.name for q in room.team(c)),
    )
    sentences = _sentences(room, area)
    items = [(row.week, 1, sentences[row.oid]) for row in rec.offers[-12:]]
    items += [(w, 0, text) for w, text in events(rec, m)]
    lines = [(w, text) for w, _, text in sorted(items, key=lambda x: (x[0], x[1]), reverse=True)[:14]]
    current = None
    current_plan = None
    waiting = [tn for tn in room.waiting_for() if tn.seat in here]
    responding = [tn for tn in waiting if tn.kind == "respond"]
    if responding and t.offer is not None:
        current_plan = np.asarray(t.plans[t.offer], float).copy()
        prev = rec.offers[-1].plan if rec.offers else None
        proposer = rec.parties[t.proposer]
        holder = room.holder(room.seat_at(area, t.proposer))
        name = f"{proposer.name} ({holder.name})" if holder else proposer.name
        current = f"Week {m.week_no}: {name} proposes {headline(current_plan, rec.minimum_gbp, prev)}."
    proposing = [tn for tn in waiting if tn.kind == "propose"]
    if proposing:
        tn = proposing[0]
        holder = room.holder(tn.seat)
        party = rec.parties[room.party_of(tn.seat)]
        who = f"{party.name} ({holder.name})" if holder else party.name
        current = f"Week {m.week_no}: {who} is preparing a plan."
    if t.plan is not None:
        plan_now, plan_kind = np.asarray(t.plan, float).copy(), ("imposed" if t.imposed else "agreed")
    elif current_plan is not None:
        plan_now, plan_kind = current_plan, "offer"
    elif rec.offers:
        plan_now, plan_kind = rec.offers[-1].plan, "offer"
    else:
        plan_now, plan_kind = None, "none"
    trust = rec.trust_now().copy()
    areas = [(str(n), STATUS_LABEL.get(s, s)) for n, s in zip(m.area_frame.area_name, m.status)]
    return TableView(
        code=room.code,
        join_url=room.join_url,
        team_size=room.settings.team_size,
        version=room.version,
        tick=room.tick,
        week=int(m.week_no),
        month=int(m.month_no),
        phase=m.phase,
        phase_label=PHASE_LABEL.get(m.phase, m.phase),
        countdown=countdown(m),
        weeks_left=weeks_left(m),
        done=m.done,
        busy=room.busy,
        playing=room.playing,
        error=room.error,
        pending_settings=room.pending_settings,
        settings=replace(room.settings),
        area_name=rec.area_name,
        areas=areas,
        seats=seats,
        outsiders=[o.name for o in rec.outsiders],
        waiting=room.waiting_text() if room.waiting_for() else "",
        current=current,
        current_plan=current_plan,
        lines=lines,
        parties=list(rec.parties),
        offers=list(rec.offers),
        trust=trust,
        mean_trust=mean_off_diagonal(trust),
        trust_history=[(f.tick, mean_off_diagonal(f.trust)) for f in rec.frames],
        plan_now=plan_now,
        plan_kind=plan_kind,
        minimum_gbp=rec.minimum_gbp,
        deadlines={
            "plan deadline": m.w1,
            "revised guidance": m.pause_end,
            "revised deadline": m.w2,
            "plans imposed": m.w3,
        }
        if m.params.pause.enabled
        else {"plan deadline": m.w1, "plans imposed": m.w3},
        status=STATUS_LABEL.get(m.status[area], m.status[area]),
        agreed_week=t.agreed_week if t.agreed is not None else None,
        outcome=room.outcome,
        recorder_id=id(rec),
        log=list(room.log[-40:]),
        generation=room.generation,
        centre=centre,
        assurance=assurance_view(room),
        area=area,
        tables=tables,
    )


def assurance_view(room) -> dict[str, Any]:
    """What the centre's seat sees: the plan under review with the stress test's figures, the
    plans queued behind it, and the verdicts given from the seat so far."""
    m = room.model
    names = [str(n) for n in m.area_frame.area_name]
    turn = room.open_turn(room.centre_seat)
    return {
        "under_review": dict(turn.figures) if turn is not None and turn.figures else None,
        "queue": [names[a] for a in m.centre.queue],
        "verdicts": [dict(v) for v in room.verdicts],
        "capacity": int(m.centre.capacity),
    }


def events(rec, m) -> list[tuple[int, str]]:
    """The table's changes of phase (the pause above all), from the recorder's frames."""

    out = []
    pause = (m.pause_end - m.w1) if m.params.pause.enabled else None
    for a, b in zip(rec.frames, rec.frames[1:]):
        if a.phase != b.phase:
            text = phase_event(a.phase, b.phase, b.week, b.agreed_week, pause)
            if text:
                out.append((b.week, text))
    return out


def agent_note(rec, code: str, week: int, what: str = "the model's agent answered for you") -> str:
    """'Time ran out in week 3: the model's agent answered for you.' for the last week or this one."""
    moves = [(w, why) for (w, c), why in rec.agent_moves.items() if c == code and w >= week - 1]
    if not moves:
        return ""
    w, why = max(moves)
    return f"{why} in week {w}: {what}."


def brief(room, token: str, seat: int) -> dict[str, Any] | None:
    """A seated person's private brief, or None if `seat` is not theirs."""

    with room._cond:
        if room.seat_of(token) != seat:
            return None
        t = room.table_of(seat)
        rec = room.recorders[room.area_of_seat(seat)]
        j = room.party_of(seat)  # the seat's place at its table
        p = t.parties[j]
        targets = getattr(t, "targets", None)
        offer_score = None
        turn = room.open_turn(seat)
        if turn is not None and turn.kind == "respond" and t.offer is not None:
            offer_score = float(t.utility[j, t.offer] * 100)
        trust = rec.trust_now()
        return {
            "name": p.name,
            "kind": p.kind,
            "label": KIND_LABEL.get(p.kind, p.kind),
            "area": rec.area_name,
            "priorities": priorities(p),
            "bottom_line": float(t.reservation[j] * 100),
            "agent_bar": float(targets[j] * 100) if targets is not None else None,
            "pressures": pressures(room.model, t, j),
            "trust": trust_lines(t, j, trust, rec.parties),
            "offer_score": offer_score,
            "own_history": [(row.week, float(row.utility[j] * 100), row.responses[j]) for row in rec.offers],
        }
