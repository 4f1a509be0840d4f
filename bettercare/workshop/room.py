"""The workshop room: the model, seats, keys, turns, the action log and the session on disk.

One `Room` is shared by every browser that opens it: the facilitator's, the projector's and each
participant's. Every action, from anyone, goes through `Room.act`, which checks it:

- facilitator actions need the facilitator's key;
- joining needs the room code (wrong codes are rate-limited per browser and per room), a name,
  a free seat, and a browser that does not already hold its allowance of seats;
- a participant acts only for their own seat, only on a turn that is open for that seat, and
  only once (an action id seen before, or a turn or week that is over, does nothing);
- a plan must pass the model's own check (`plan.validate`), or it is refused with the reason;
- a verdict from the centre's seat must be one the centre may give at assurance;
- a team member (a second laptop at a seat) may suggest a plan or vote on an offer only when the
  facilitator has turned on team advice, only on their own seat's open turn; the advice goes to
  the team's lead, who still moves for the seat.

Besides the focus table's seats, the room has a seat for the centre (NHS England's assurance
team), last in the seat numbering: whoever holds it sees each plan the centre reviews with the
stress test's figures and gives the verdict, through `modelport.CentreSeat`; when nobody answers
in time, the stress test's own verdict stands, as the agents answer for the other seats.

People sit at the *focus* area's table, and at any more tables the facilitator names
(`Settings.tables`), through `modelport.PersonSeat`s. Seats are numbered table by table, the
focus table's first, with the centre's seat last. The negotiation code calls `propose` and
`respond` on them as on any seat; a `PersonSeat` asks the room, which waits for the person and
lets the model's agent answer when the seat is empty, the person leaves, the turn timer runs
out, or the facilitator moves on. The model steps in a worker thread so that it can wait for
people; the room's lock is released while it waits. With people at several tables, those
tables talk at the same time, each in its own thread under the room's lock
(`BetterCareModel._talk_together`), so one table's people do not wait for another's.

With a `store` (a session file), every step, every answer and every live change is journaled;
a room made again from the same file rebuilds the model from its seed and replays the journal,
so it resumes in the same week with the same log, keys, code and seats. Answers are found in the
journal by seat and week (tables that talk at the same time answer in any order); the centre's
verdicts, given one after another, by their position in the step. With people at several
tables, a live change made during a step takes effect when the step ends.
"""

from __future__ import annotations

import hmac
import math
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from bettercare.model.areas import england
from bettercare.model.results import collect
from bettercare.model.scenario import PRESETS, ScenarioError

from . import modelport, plans
from .access import RateLimiter, new_token
from .history import KIND_LABEL, Recorder, mean_off_diagonal
from .replay import run_pair, value_label
from .settings import (
    LIVE,
    MAX_AREAS,
    OTHER_SETTINGS,
    PRESET_LABEL,
    RANGES,
    STRUCTURAL,
    WORKSHOP_PRESETS,
    Settings,
    new_code,
    preset_label,
)
from .story import STATUS_LABEL
from .views import table_view

MAX_NAME = 40
VERDICT_WORDS = {
    "approved": "approved",
    "approved_with_conditions": "approved with conditions",
    "not_approved": "not approved: it goes back to the partners",
}

PARTICIPANT_KINDS = {"join", "leave", "propose", "respond", "verdict", "suggest", "vote"}
FACILITATOR_KINDS = {"configure", "reset", "step", "play", "pause", "run", "skip", "timer", "free_seat", "replay"}

__all__ = [
    "Action",
    "Outcome",
    "Participant",
    "Room",
    "Settings",
    "WORKSHOP_PRESETS",
    "PRESET_LABEL",
    "new_action_id",
    "new_code",
    "new_token",
]


def new_action_id() -> str:

    return secrets.token_hex(8)


@dataclass(frozen=True)
class Action:
    """Something a person asks the room to do.

    `action_id` is unique per click (made by the page); `turn` and `week` name the turn the
    action answers, and `tick` the model step the facilitator saw, so that a late or repeated
    action does nothing. `client` names the browser it came from (for rate limits and the
    one-seat-per-browser rule).
    """

    kind: str
    token: str = ""
    action_id: str = field(default_factory=new_action_id)
    seat: int | None = None
    turn: int | None = None
    week: int | None = None
    tick: int | None = None
    data: dict[str, Any] = field(default_factory=dict)
    client: str = ""


@dataclass(frozen=True)
class Outcome:
    ok: bool
    message: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class Participant:
    token: str
    name: str
    seat: str | None  # org code of the seat held, or None
    joined: float
    browser: str = ""
    role: str = "lead"  # lead: moves for the seat; member: a team-mate who sees the brief
    kernels: set[str] = field(default_factory=set)  # open pages (Solara kernels) of this person
    last_seat: str | None = None  # the seat they held before their pages closed


@dataclass
class Turn:
    """A move the table is waiting for from a person."""

    id: int
    seat: int
    kind: str  # propose | respond | review (the centre's verdict on one area's plan)
    week: int
    offer: int | None
    opened: float
    deadline: float | None
    ask: int = 0  # which ask of the step this is (for the journal)
    answer: Any = None
    plan: list[float] | None = None  # a person's proposal, as journaled
    closed: bool = False
    skipped: bool = False
    area: int | None = None  # review: the area whose plan is assured
    figures: dict[str, Any] | None = None  # review: the stress test's figures, as the person sees them
    advice: dict[str, dict[str, Any]] = field(default_factory=dict)  # team members' advice, by their key


@dataclass
class LogEntry:
    id: int
    time: float
    who: str
    text: str
    ok: bool = True


class Room:
    """One workshop: a model, a table people sit at, and everyone's actions."""

    def __init__(
        self,
        settings: Settings | None = None,
        code: str | None = None,
        token: str | None = None,
        join_url: str = "",
        store=None,
        name: str = "",
    ):
        self.name = name
        self.store = store
        resumed = store is not None and not store.is_new()
        if resumed:
            settings = Settings(**store.get("settings"))
            code, token = store.get("code"), store.get("key")
        self.code = (code or new_code()).strip().upper()
        self.facilitator_token = token or new_token()
        self.join_url = join_url
        self.settings = settings or Settings.for_preset("england-2014")
        self.pending_settings = False  # structural settings changed since the model was built
        self._cond = threading.Condition(threading.RLock())
        self._listeners: list[Callable[[], None]] = []
        self.version = 0
        self.generation = 0  # a Reset starts a new generation: pages drop what they held
        self.participants: dict[str, Participant] = {}
        self.holders: dict[str, str] = {}  # org code -> participant token
        self.turns: dict[int, Turn] = {}  # seat index -> open turn
        self._turn_ids = 0
        self._seen_actions: set[str] = set()
        self.log: list[LogEntry] = []
        self.limiter = RateLimiter()
        self.model = None
        self.recorder: Recorder | None = None
        self.focus = 0
        self.people: list[int] = [0]  # the areas people sit at, focus first
        self.recorders: dict[int, Recorder] = {}
        self._seat_map: list[tuple[int, int]] = []  # seat -> (area, party at that table)
        self._pending_live: dict[str, Any] = {}  # live changes waiting for the step's end
        self._views: dict[int, Any] = {}
        self.tick = 0
        self.busy = False
        self.playing = False
        self.fast = False
        self._stop = False
        self._worker: threading.Thread | None = None
        self.error: str | None = None
        self.outcome: dict[str, Any] | None = None
        self.replay = None  # set by the facilitator's side-by-side replay
        self.last_step_seconds = 0.0
        self._in_step = False  # the worker is inside model.step()
        self.leave_grace = 8.0  # seconds a seat waits for a person whose pages all closed (a reload)
        self.epoch = 0
        self._asks = 0  # asks of the step under way (positions in the journal)
        self._in_ask = 0  # the ask the worker is waiting in, or 0
        self._replaying: deque | None = None  # journal entries still to replay
        self._quiet = False  # while replaying complete steps: the log comes from the file
        self.verdicts: list[dict[str, Any]] = []  # verdicts given from the centre's seat, in order
        with self._cond:
            if resumed:
                self._resume()
            else:
                self._build()
                self._save_meta()

    # --- notification ----------------------------------------------------------------------
    def subscribe(self, fn: Callable[[], None]) -> Callable[[], None]:
        """Call `fn()` (cheap, from any thread) whenever the room changes; returns an unsubscribe."""
        with self._cond:
            self._listeners.append(fn)

        def unsubscribe():
            with self._cond:
                if fn in self._listeners:
                    self._listeners.remove(fn)

        return unsubscribe

    def _changed(self) -> None:
        self.version += 1
        self._cond.notify_all()
        for fn in list(self._listeners):
            try:
                fn()
            except Exception:  # a closed page must not break the room
                pass

    def wait_until(self, predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
        """Block until `predicate()` holds (checked under the room's lock); for tests and scripts."""
        with self._cond:
            return self._cond.wait_for(predicate, timeout)

    # --- the session on disk -------------------------------------------------------------------
    def _save_meta(self) -> None:
        if self.store is not None:
            self.store.put(code=self.code, key=self.facilitator_token, settings=asdict(self.settings), epoch=self.epoch)

    def _journal(self, kind: str, data: dict[str, Any]) -> None:
        if self.store is not None and not self._quiet:
            self.store.append(self.epoch, kind, data)

    def _save_participant(self, p: Participant) -> None:
        if self.store is not None:
            self.store.save_participant(p)

    def _resume(self) -> None:
        """Rebuild the model from the seed and replay the journal: the same room, exactly."""
        st = self.store
        self.epoch = int(st.get("epoch", 0))
        for e in st.log():
            self.log.append(LogEntry(e["id"], e["time"], e["who"], e["text"], e["ok"]))
        for d in st.participants():
            p = Participant(
                d["token"],
                d["name"],
                d["seat"],
                d["joined"],
                d["browser"] or "",
                role=d.get("role") or "lead",
                last_seat=d["last_seat"],
            )
            self.participants[p.token] = p
            if p.seat is not None and p.role == "lead":
                self.holders[p.seat] = p.token
        # The model is rebuilt as the epoch began: live changes since are in the journal, and
        # replaying them onto a model built with their final values would apply them twice.
        latest = self.settings
        started = st.get("epoch_settings")
        if started:
            self.settings = Settings(**started)
        self._build(new_epoch=False)
        self.settings = latest
        entries = deque(st.journal(self.epoch))
        partial = sum(k == "step" for k, _ in entries) > sum(k == "done" for k, _ in entries)
        self._replaying = entries
        self._quiet = True
        try:
            while entries:
                kind, data = entries.popleft()
                if kind == "live":
                    self._apply_live_values(data)
                elif kind == "agent":
                    self.recorder_of(data["code"]).note_agent(data["week"], data["code"], data["why"])
                elif kind == "step":
                    if partial and not any(k == "step" for k, _ in entries):
                        break  # the step under way when the server stopped: the worker finishes it below
                    self._step_model()
        finally:
            self._quiet = False
        if st.get("pending_settings"):
            self.pending_settings = True
        replay = st.get("replay")
        if replay:
            self._run_replay(replay)
        self._log("room", f"Session resumed at step {self.tick} from {st.path.name}")
        if partial:
            self._start(steps=1)  # replays what people said in that step, then waits for the rest
        else:
            self._replaying = None

    # --- building ----------------------------------------------------------------------------
    def _build(self, new_epoch: bool = True) -> None:
        s = self.settings
        model, sc, focus, people = modelport.build(s, self._ask, self._review, lock=self._cond)
        names = modelport.area_names(model)
        s.focus = names[focus]
        s.tables = [names[a] for a in people[1:]]
        self.model = model
        self.scenario = sc
        self.focus = focus
        self.people = people
        self.recorders = {a: Recorder(model, a) for a in people}
        self.recorder = self.recorders[focus]
        self._seat_map = [(a, j) for a in people for j in range(model.tables[a].n)]
        self._pending_live = {}
        self.tick = 0
        self.turns = {}
        self.verdicts = []
        self.outcome = None
        self.error = None
        self.pending_settings = False
        if new_epoch:
            self.epoch += 1
            self.generation += 1
            self.replay = None
            if self.store is not None:
                self.store.put(
                    epoch=self.epoch, settings=asdict(s), epoch_settings=asdict(s), pending_settings=False, replay=None
                )
        codes = set(self.seat_codes)
        for p in self.participants.values():
            if p.role == "member" and p.seat is not None and p.seat not in codes:
                p.seat = None
                self._save_participant(p)
        for code, tok in list(self.holders.items()):
            if code not in codes:
                del self.holders[code]
                p = self.participants.get(tok)
                if p is not None:
                    p.seat = None
                    self._save_participant(p)
                    self._log(p.name, f"{p.name}'s seat is not at the new table: choose a new seat")

    @property
    def table(self):
        return self.model.tables[self.focus]

    @property
    def centre_seat(self) -> int:
        """The centre's seat comes after every table's parties."""
        return len(self._seat_map)

    @property
    def seat_codes(self) -> list[str]:
        tables = self.model.tables
        return [*(tables[a].codes[j] for a, j in self._seat_map), self.model.centre.code]

    def area_of_seat(self, seat: int | None) -> int:
        """The area whose table a seat is at (the focus for the centre's seat or no seat)."""
        if seat is None or not 0 <= seat < len(self._seat_map):
            return self.focus
        return self._seat_map[seat][0]

    def table_of(self, seat: int):
        return self.model.tables[self.area_of_seat(seat)]

    def party_of(self, seat: int) -> int:
        """The seat's index among its table's parties."""
        return self._seat_map[seat][1]

    def seat_at(self, area: int, party: int) -> int:
        return self._seat_map.index((area, party))

    def seats_at(self, area: int) -> list[int]:
        return [i for i, (a, _) in enumerate(self._seat_map) if a == area]

    def recorder_of(self, code: str) -> Recorder:
        """The recorder of the table where `code` has a seat (the focus table's for the centre)."""
        for rec in self.recorders.values():
            if code in rec.index:
                return rec
        return self.recorder

    def party_name(self, seat: int) -> str:
        if seat == self.centre_seat:
            return f"{self.model.centre.name} (assurance)"
        return self.table_of(seat).parties[self.party_of(seat)].name

    def seat_kind(self, seat: int) -> str:
        return "centre" if seat == self.centre_seat else self.table_of(seat).parties[self.party_of(seat)].kind

    def seat_of(self, token: str) -> int | None:
        p = self.participants.get(token)
        if p is None or p.seat is None:
            return None
        codes = self.seat_codes
        return codes.index(p.seat) if p.seat in codes else None

    def holder(self, seat: int) -> Participant | None:
        tok = self.holders.get(self.seat_codes[seat])
        return self.participants.get(tok) if tok else None

    def is_facilitator(self, token: str) -> bool:
        return bool(token) and hmac.compare_digest(str(token), self.facilitator_token)

    def check_code(self, code: str) -> bool:
        return hmac.compare_digest(str(code or "").strip().upper().encode(), self.code.encode())

    # --- the log -----------------------------------------------------------------------------
    def _log(self, who: str, text: str, ok: bool = True) -> None:
        if self._quiet:
            return  # the log of a resumed session comes from the file
        e = LogEntry(len(self.log), time.time(), who, text, ok)
        self.log.append(e)
        if self.store is not None:
            self.store.add_log(e)

    # --- the one door for actions --------------------------------------------------------------
    def act(self, action: Action) -> Outcome:
        """Check an action and carry it out; the outcome says what happened or why not."""
        with self._cond:
            try:
                out = self._act(action)
            except Exception as exc:  # a bug must not leave the room half-changed without a word
                out = Outcome(False, f"That did not work ({type(exc).__name__}); nothing was changed.")
            who = self._who(out.data.get("token") or action.token)
            if not out.data.get("duplicate"):
                self._log(who, f"{action.kind}: {out.message}", out.ok)
            self._changed()
            return out

    def _who(self, token: str) -> str:
        if self.is_facilitator(token):
            return "facilitator"
        p = self.participants.get(token)
        return p.name if p else "someone"

    def _act(self, a: Action) -> Outcome:
        if not a.action_id:
            return Outcome(False, "An action needs an id.")
        if a.action_id in self._seen_actions:
            return Outcome(False, "Already done: this action was received before.", {"duplicate": True})
        self._seen_actions.add(a.action_id)
        if a.kind in FACILITATOR_KINDS:
            if not self.is_facilitator(a.token):
                return Outcome(False, "Only the facilitator can do that.")
            return getattr(self, f"_do_{a.kind}")(a)
        if a.kind in PARTICIPANT_KINDS:
            return getattr(self, f"_do_{a.kind}")(a)
        return Outcome(False, f"Unknown action '{a.kind}'.")

    # --- participants ------------------------------------------------------------------------------
    def free_seats(self) -> list[int]:
        """Free seats at the tables (the centre's seat, `centre_seat`, is not counted)."""
        return [i for i, c in enumerate(self.seat_codes[:-1]) if c not in self.holders]

    def seats_in_browser(self, client: str) -> list[Participant]:
        return [
            p
            for p in self.participants.values()
            if client and p.browser == client and p.seat is not None and p.seat in self.seat_codes
        ]

    def _do_join(self, a: Action) -> Outcome:
        d = a.data
        client = a.client or "unknown browser"
        wait = self.limiter.wait_for(client)
        if wait > 0:
            return Outcome(False, f"Too many wrong room codes: try again in {math.ceil(wait)} s.")
        if not self.check_code(d.get("code", "")):
            self.limiter.failed(client)
            return Outcome(False, "That is not this room's code: ask the facilitator for it.")
        name = " ".join(str(d.get("name", "")).split())[:MAX_NAME]
        if not name:
            return Outcome(False, "Please give your name.")
        seat = a.seat
        if seat is None or not isinstance(seat, int) or not 0 <= seat < len(self.seat_codes):
            return Outcome(False, "Choose one of the seats at the table.")
        p = self.participants.get(a.token) if a.token else None
        allowed = self.settings.seats_per_browser
        held = self.seats_in_browser(a.client)
        if p is not None and p.seat is not None and p.seat in self.seat_codes and allowed <= 1:
            mine = self.party_name(self.seat_of(a.token))
            return Outcome(False, f"You already sit as {mine}: leave that seat first.")
        if len(held) >= allowed:
            mine = ", ".join(self.party_name(self.seat_codes.index(h.seat)) for h in held)
            return Outcome(
                False,
                f"This browser already holds a seat ({mine}). One seat per browser, unless "
                "the facilitator allows more.",
            )
        code = self.seat_codes[seat]
        role = "lead"
        if code in self.holders:
            team = self.team(seat)
            if len(team) >= self.settings.team_size:
                return Outcome(
                    False,
                    f"{self.party_name(seat)} is taken: choose a free seat."
                    if self.settings.team_size <= 1
                    else f"{self.party_name(seat)}'s team is full ({len(team)} laptops): choose another seat.",
                )
            role = "member"
        if p is None or (p.seat is not None and p.seat in self.seat_codes):
            p = Participant(new_token(), name, None, time.time(), a.client)
            self.participants[p.token] = p
        p.name = name
        p.seat = code
        p.role = role
        p.browser = a.client or p.browser
        if role == "lead":
            self.holders[code] = p.token
        self._save_participant(p)
        kind = KIND_LABEL.get(self.seat_kind(seat), "")
        if role == "member":
            lead = self.holder(seat)
            return Outcome(
                True,
                f"{name} joins the team of {self.party_name(seat)} ({kind}): {lead.name} moves for "
                "the team; members see the brief and the offers.",
                {"token": p.token, "seat": seat},
            )
        return Outcome(True, f"{name} sits as {self.party_name(seat)} ({kind}).", {"token": p.token, "seat": seat})

    def team(self, seat: int) -> list[Participant]:
        """Everyone at a seat: its lead first, then the members, in the order they joined."""
        code = self.seat_codes[seat]
        lead = self.holder(seat)
        members = sorted(
            (p for p in self.participants.values() if p.seat == code and p.role == "member"), key=lambda p: p.joined
        )
        return ([lead] if lead else []) + members

    def _do_leave(self, a: Action) -> Outcome:
        p = self.participants.get(a.token)
        if p is None or p.seat is None:
            return Outcome(False, "You do not have a seat.")
        seat = self.seat_of(a.token)
        self._unseat(p)
        name = self.party_name(seat) if seat is not None else "the seat"
        return Outcome(True, f"{p.name} left; the model's agent now plays {name}.")

    def _unseat(self, p: Participant) -> None:
        """Take a person off their seat; when a team's lead goes, the longest-serving member leads."""
        code = p.seat
        if code is not None and self.holders.get(code) == p.token:
            del self.holders[code]
            heirs = sorted(
                (q for q in self.participants.values() if q.seat == code and q.role == "member" and q is not p),
                key=lambda q: q.joined,
            )
            if heirs:
                heirs[0].role = "lead"
                self.holders[code] = heirs[0].token
                self._save_participant(heirs[0])
                self._log("room", f"{heirs[0].name} now moves for {code and self._name_of(code)}")
        p.seat = None
        p.role = "lead"
        self._save_participant(p)

    def _name_of(self, code: str) -> str:
        codes = self.seat_codes
        return self.party_name(codes.index(code)) if code in codes else code

    def _check_seat(self, a: Action) -> tuple[Participant | None, str | None]:
        p = self.participants.get(a.token)
        if p is None:
            return None, "You have not joined this room: open the join page and take a seat."
        mine = self.seat_of(a.token)
        if mine is None:
            return None, "You do not have a seat at the table: join first."
        if a.seat is None or a.seat != mine:
            other = (
                self.party_name(a.seat)
                if isinstance(a.seat, int) and 0 <= a.seat < len(self.seat_codes)
                else "another seat"
            )
            return None, f"You sit as {self.party_name(mine)}; you cannot act for {other}."
        if p.role == "member":
            lead = self.holder(mine)
            return None, (
                f"{lead.name if lead else 'Your team lead'} moves for {self.party_name(mine)}; as a team "
                "member you see the brief and the offers."
            )
        return p, None

    def _check_turn(self, a: Action, kind: str) -> tuple[Turn | None, str | None]:
        turn = self.turns.get(a.seat)
        if turn is None or turn.closed or turn.kind != kind:
            what = {"propose": "propose", "respond": "answer an offer", "review": "give a verdict"}[kind]
            return None, f"It is not your turn to {what} now (week {self.model.week_no})."
        if a.turn != turn.id or a.week != turn.week:
            return None, f"That turn is over: the table is now in week {self.model.week_no}."
        if turn.answer is not None:
            return None, "You have already answered this turn."
        return turn, None

    def _do_propose(self, a: Action) -> Outcome:
        p, why = self._check_seat(a)
        if why:
            return Outcome(False, why)
        turn, why = self._check_turn(a, "propose")
        if why:
            return Outcome(False, why)
        try:
            plan = self.plan_from(a.data, a.seat)
        except ValueError as exc:
            return Outcome(False, f"Plan refused: {exc}")
        turn.plan = [float(x) for x in plan]
        turn.answer = modelport.add_plan(self.table_of(a.seat), plan)
        code = self.seat_codes[a.seat]
        self.recorder_of(code).note_person(turn.week, code, p.name)
        return Outcome(True, f"{p.name} puts a plan on the table for {self.party_name(a.seat)}.")

    def _do_respond(self, a: Action) -> Outcome:
        p, why = self._check_seat(a)
        if why:
            return Outcome(False, why)
        turn, why = self._check_turn(a, "respond")
        if why:
            return Outcome(False, why)
        accept = a.data.get("accept")
        if not isinstance(accept, bool):
            return Outcome(False, "Say accept or reject.")
        turn.answer = accept
        code = self.seat_codes[a.seat]
        self.recorder_of(code).note_person(turn.week, code, p.name)
        verb = "accepts" if accept else "rejects"
        return Outcome(True, f"{p.name} {verb} the offer for {self.party_name(a.seat)}.")

    def _do_verdict(self, a: Action) -> Outcome:
        """The centre's seat gives its verdict on the plan under review."""
        p, why = self._check_seat(a)
        if why:
            return Outcome(False, why)
        turn, why = self._check_turn(a, "review")
        if why:
            return Outcome(False, why)
        try:
            status = modelport.check_verdict(a.data.get("status"))
        except ValueError as exc:
            return Outcome(False, f"Verdict refused: {exc}")
        turn.answer = str(status)
        self.recorder.note_person(turn.week, self.model.centre.code, p.name)
        area = turn.figures["area"] if turn.figures else "the area"
        return Outcome(True, f"{p.name}, for the centre: {area}'s plan is {VERDICT_WORDS[status]}.")

    # --- team advice: members suggest, the lead decides ------------------------------------------
    def _check_member(self, a: Action, kind: str) -> tuple[Participant | None, Turn | None, str | None]:
        p = self.participants.get(a.token)
        if p is None or p.seat is None:
            return None, None, "You do not have a seat at the table: join first."
        mine = self.seat_of(a.token)
        if a.seat != mine:
            return None, None, "You can only advise your own seat's lead."
        if p.role != "member":
            return None, None, "You move for this seat yourself: put your plan or answer on the table."
        if not self.settings.team_advice:
            return None, None, "Team advice is off: the facilitator can turn it on."
        turn = self.turns.get(mine)
        if turn is None or turn.closed or turn.kind != kind or turn.answer is not None:
            what = {"propose": "a plan to suggest", "respond": "an offer to vote on"}[kind]
            return None, None, f"Your team has no {what} now (week {self.model.week_no})."
        if a.turn != turn.id or a.week != turn.week:
            return None, None, f"That turn is over: the table is now in week {self.model.week_no}."
        return p, turn, None

    def _do_suggest(self, a: Action) -> Outcome:
        """A team member suggests a plan to the lead (checked by the model's rules, as a proposal is)."""
        p, turn, why = self._check_member(a, "propose")
        if why:
            return Outcome(False, why)
        try:
            plan = self.plan_from(a.data, a.seat)
        except ValueError as exc:
            return Outcome(False, f"Suggestion refused: {exc}")
        turn.advice[p.token] = {"name": p.name, "plan": [float(x) for x in plan], "at": time.time()}
        lead = self.holder(a.seat)
        return Outcome(True, f"{p.name} suggests a plan to {lead.name if lead else 'the team'}.")

    def _do_vote(self, a: Action) -> Outcome:
        """A team member's vote on the offer: advice to the lead, who still answers for the seat."""
        p, turn, why = self._check_member(a, "respond")
        if why:
            return Outcome(False, why)
        accept = a.data.get("accept")
        if not isinstance(accept, bool):
            return Outcome(False, "Say accept or reject.")
        turn.advice[p.token] = {"name": p.name, "accept": accept, "at": time.time()}
        return Outcome(True, f"{p.name} has voted for the team's answer.")

    def team_advice(self, token: str, seat: int) -> list[dict[str, Any]] | None:
        """The advice on the seat's open turn, latest per member; None unless `token` sits there."""
        with self._cond:
            if self.seat_of(token) != seat:
                return None
            turn = self.open_turn(seat)
            if turn is None:
                return []
            return sorted((dict(v) for v in turn.advice.values()), key=lambda v: v["at"])

    # --- plans from people ---------------------------------------------------------------------------
    def plan_limits(self, seat: int | None = None) -> dict[str, float]:
        """What a plan may hold at the seat's table (the focus table's without a seat)."""
        return modelport.limits(self.model, self.area_of_seat(seat))

    def plan_from(self, data: dict[str, Any], seat: int | None = None) -> np.ndarray:
        """A plan vector from the form, checked by the model's own rules (raises `plans.PlanError`)."""
        return plans.plan_from(data, self.plan_limits(seat), lambda plan: modelport.check_plan(self.model, plan))

    def plan_to_form(self, plan: np.ndarray, seat: int | None = None) -> dict[str, Any]:
        return plans.plan_to_form(plan, self.plan_limits(seat))

    def score(self, token: str, seat: int, data: dict[str, Any]) -> Outcome:
        """A seated person's own score (0-100, capped) of a draft plan, or why the plan is not valid."""
        with self._cond:
            if self.seat_of(token) != seat:
                return Outcome(False, "You can only score plans for your own seat.")
            try:
                plan = self.plan_from(data, seat)
            except ValueError as exc:
                return Outcome(False, str(exc))
            raw = float(modelport.score(self.table_of(seat), plan)[self.party_of(seat)] * 100)
            return Outcome(True, "ok", {"score": min(max(raw, 0.0), 100.0), "raw": raw})

    def suggestion(self, seat: int) -> np.ndarray:
        """What the model's agent would put on the table from this seat now."""
        return modelport.suggestion(self.model, self.table_of(seat), self.party_of(seat))

    # --- the wait for people (called by PersonSeat in the worker thread, lock held) ------------
    def _ask(self, table, party: int, kind: str, offer: int | None):
        if table.area not in self.recorders:
            return None
        self._asks += 1
        seat = self.seat_at(table.area, party)
        code = table.codes[party]
        week = int(self.model.week_no)
        if self._replaying is not None:
            found, answer = self._replayed_answer(kind, code, week, table)
            if found or self._quiet:
                return answer
            # not in the journal: the step under way when the server stopped; the person is asked
        if self._stop or self.holder(seat) is None:
            return None
        turn = self.turns.get(seat)
        if kind == "propose":
            turn = self._open(seat, "propose", week, None)
        elif turn is None or turn.kind != "respond" or turn.week != week or turn.offer != offer or turn.closed:
            for j in range(table.n):
                s = self.seat_at(table.area, j)
                if j != table.proposer and self.holder(s) is not None:
                    self._open(s, "respond", week, offer)
            turn = self.turns[seat]
        answer, why = self._put_and_wait(turn)
        p = self.holder(seat)
        if answer is not None:
            self._journal(
                "answer",
                {
                    "ask": turn.ask,
                    "kind": kind,
                    "value": turn.plan if kind == "propose" else bool(answer),
                    "week": week,
                    "code": code,
                    "person": p.name if p else "",
                },
            )
        if answer is None and why:
            self._log("room", f"{why}: the model's agent answered for {self.party_name(seat)}")
            self.recorders[table.area].note_agent(week, code, why)
            self._journal("agent", {"ask": turn.ask, "week": week, "code": code, "why": why})
            self._changed()
        # a person's answer was shown when it was given; the step's end tells every page what follows
        return answer

    def _replayed_answer(self, kind: str, code: str, week: int, table=None) -> tuple[bool, Any]:
        """What the journal says happened at this ask: (True, the answer), (True, None) when the
        agent answered for the person, or (False, None) when the journal does not say.

        Live changes journaled before this ask are applied first. Table answers are found by seat
        and week (tables that talk at the same time answer in any order); the centre's verdicts
        by their position in the step."""
        q = self._replaying
        while q and q[0][0] == "live" and q[0][1].get("ask", 0) <= self._asks:
            self._apply_live_values(q.popleft()[1])
        for i, (k, data) in enumerate(q):
            if k in ("step", "done"):
                break
            if k not in ("answer", "agent") or data.get("code") != code or data.get("week") != week:
                continue
            if k == "answer" and data.get("kind") != kind:
                continue
            if kind == "review" and data.get("ask") != self._asks:
                continue
            del q[i]
            rec = self.recorder_of(code)
            if k == "agent":
                rec.note_agent(week, code, data["why"])
                return True, None
            rec.note_person(week, code, data["person"])
            if kind == "review":
                return True, (data["value"], data["person"])
            if kind == "propose":
                return True, modelport.add_plan(table, np.asarray(data["value"], float))
            return True, bool(data["value"])
        return False, None

    def _review(self, area: int, figures: dict[str, Any]):
        """The centre reviews a plan: ask the person in the centre's seat for the verdict.

        Returns (verdict, name) or None, in which case the stress test's verdict stands. Journaled
        and replayed like the table's answers, so a resumed session gives the same verdicts.
        """
        self._asks += 1
        seat = self.centre_seat
        week = int(self.model.week_no)
        code = self.model.centre.code
        if self._replaying is not None:
            found, answer = self._replayed_answer("review", code, week)
            if answer is not None:
                self._note_verdict(week, figures, *answer)
            if found or self._quiet:
                return answer
        if self._stop or self.holder(seat) is None:
            return None
        turn = self._open(seat, "review", week, None)
        turn.area, turn.figures = area, dict(figures)
        answer, why = self._put_and_wait(turn)
        p = self.holder(seat)
        if answer is not None:
            name = p.name if p else ""
            self._journal(
                "answer",
                {"ask": turn.ask, "kind": "review", "value": answer, "week": week, "code": code, "person": name},
            )
            self._note_verdict(week, figures, answer, name)
            return answer, name
        if why:
            self._log("room", f"{why}: the stress test's verdict stands on {figures['area']}'s plan")
            self.recorder.note_agent(week, code, why)
            self._journal("agent", {"ask": turn.ask, "week": week, "code": code, "why": why})
            self._changed()
        return None

    def _note_verdict(self, week: int, figures: dict[str, Any], status: str, by: str) -> None:
        self.verdicts.append({"week": week, **figures, "verdict": status, "by": by})

    def _open(self, seat: int, kind: str, week: int, offer: int | None) -> Turn:
        self._turn_ids += 1
        now = time.time()
        secs = self.settings.turn_seconds
        t = Turn(self._turn_ids, seat, kind, week, offer, now, now + secs if secs > 0 else None)
        self.turns[seat] = t
        return t

    def _put_and_wait(self, turn: Turn) -> tuple[Any, str | None]:
        """Put an open turn to its seat, wait for the answer (or why there is none), close it."""
        turn.ask = self._asks
        self._changed()
        self._in_ask = self._asks
        try:
            answer, why = self._wait(turn)
        finally:
            self._in_ask = 0
        turn.closed = True
        return answer, why

    def _wait(self, turn: Turn) -> tuple[Any, str | None]:
        while True:
            if turn.answer is not None:
                return turn.answer, None
            if self._stop:
                return None, "The facilitator reset the room"
            if turn.skipped:
                return None, "The facilitator moved on"
            if self.holder(turn.seat) is None:
                return None, "The seat is empty"
            timeout = 1.0
            if turn.deadline is not None:
                left = turn.deadline - time.time()
                if left <= 0:
                    return None, "Time ran out"
                timeout = min(timeout, left)
            self._cond.wait(timeout)

    def open_turn(self, seat: int) -> Turn | None:
        t = self.turns.get(seat)
        return t if t is not None and not t.closed and t.answer is None else None

    def waiting_for(self) -> list[Turn]:
        return [t for t in self.turns.values() if not t.closed and t.answer is None and not t.skipped]

    @property
    def thinking(self) -> bool:
        """The model is inside a step and asks nobody: whatever a page drew now would be gone
        before anyone read it (say, the moment between the last answer and the new week).

        Read without the lock, by pages deciding when to render; a torn read only makes one
        render early or late."""
        if not self._in_step:
            return False
        try:
            return not self.waiting_for()
        except RuntimeError:  # the turns changed while being read
            return False

    # --- the facilitator ---------------------------------------------------------------------------
    def _do_configure(self, a: Action) -> Outcome:

        d = dict(a.data)
        s = self.settings
        new = Settings(**asdict(s))
        if "preset" in d:
            if d["preset"] not in PRESET_LABEL and d["preset"] not in PRESETS:
                return Outcome(False, f"No preset named {str(d['preset'])[:40]!r}.")
            keep = {k: d[k] for k in ("areas", "focus", "tables") if k in d}
            new = Settings.for_preset(
                d["preset"],
                keep.get("areas"),
                seed=s.seed,
                turn_seconds=s.turn_seconds,
                play_delay=s.play_delay,
                seats_per_browser=s.seats_per_browser,
                team_size=s.team_size,
                team_advice=s.team_advice,
            )
            if "focus" in keep:
                new.focus = keep["focus"]
            new.tables = [t for t in s.tables if t in new.areas]
            d = {k: v for k, v in d.items() if k not in ("preset", "areas", "focus")}
        unknown = set(d) - STRUCTURAL - LIVE - OTHER_SETTINGS
        if unknown:
            return Outcome(False, f"Unknown setting {str(sorted(unknown)[0])[:40]!r}.")
        try:
            if "areas" in d:
                if not isinstance(d["areas"], list | tuple):
                    return Outcome(False, "Areas must be a list of area names.")
                names = [str(x) for x in d["areas"]]
                known = set(england().areas.area_name)
                bad = [n for n in names if n not in known]
                if bad:
                    return Outcome(False, f"No area named {bad[0][:60]!r}.")
                if not names:
                    return Outcome(False, "Choose at least one area.")
                if len(names) > MAX_AREAS:
                    return Outcome(False, f"Choose at most {MAX_AREAS} areas for a workshop.")
                new.areas = list(dict.fromkeys(names))
                if new.focus not in new.areas:
                    new.focus = new.areas[0]
            if "focus" in d:
                if d["focus"] not in new.areas:
                    return Outcome(False, "People can only sit at one of the chosen areas' tables.")
                new.focus = str(d["focus"])
            if "tables" in d:
                if not isinstance(d["tables"], list | tuple):
                    return Outcome(False, "Tables must be a list of area names.")
                names = [str(x) for x in d["tables"]]
                bad = [n for n in names if n not in new.areas]
                if bad:
                    return Outcome(False, f"People can only sit at the chosen areas' tables, not {bad[0][:60]!r}.")
                new.tables = list(dict.fromkeys(names))
            new.tables = [t for t in new.tables if t in new.areas and t != new.focus]
            if "team_advice" in d:
                if not isinstance(d["team_advice"], bool):
                    return Outcome(False, "team advice must be on or off (true or false).")
                new.team_advice = d["team_advice"]
            for k, (lo, hi) in RANGES.items():
                if k in d:
                    if isinstance(d[k], bool):
                        raise TypeError(k)
                    v = float(d[k])
                    if not (math.isfinite(v) and lo <= v <= hi):
                        return Outcome(False, f"{k.replace('_', ' ')} must be between {lo:g} and {hi:g}.")
                    setattr(new, k, int(round(v)) if isinstance(getattr(s, k), int) else v)
        except (TypeError, ValueError):
            return Outcome(False, "Settings must be numbers in range.")

        changed = {k for k in asdict(new) if getattr(new, k) != getattr(s, k)}
        structural = changed & STRUCTURAL
        old = self.settings
        self.settings = new
        if structural and self.tick == 0 and not self.busy:
            try:
                self._build()
            except ScenarioError as exc:
                self.settings = old
                self._build()
                return Outcome(False, f"Those settings do not make a model: {exc}")
            return Outcome(True, "Settings applied: the room starts again with them.")
        msgs = []
        if changed & LIVE:
            values = {k: getattr(new, k) for k in changed & LIVE}
            if self.busy and len(self.people) > 1:
                # tables talking at the same time have no one position in the step: at its end
                self._pending_live.update(values)
                msgs.append("applied when this step ends: " + ", ".join(sorted(changed & LIVE)))
            else:
                self._journal("live", {"ask": self._in_ask, **values})
                self._apply_live_values(values)
                msgs.append("applied now: " + ", ".join(sorted(changed & LIVE)))
        if "turn_seconds" in changed:
            for t in self.waiting_for():
                t.deadline = t.opened + new.turn_seconds if new.turn_seconds > 0 else None
            msgs.append("turn timer " + (f"{new.turn_seconds} s" if new.turn_seconds else "off"))
        if "seats_per_browser" in changed:
            msgs.append(f"{new.seats_per_browser} seat(s) per browser")
        if "team_advice" in changed:
            msgs.append("team advice " + ("on" if new.team_advice else "off"))
        if "play_delay" in changed:
            msgs.append(f"{new.play_delay:g} s between weeks")
        if structural:
            self.pending_settings = True
            msgs.append("press Reset to start again with: " + ", ".join(sorted(structural)))
        if self.store is not None:
            self.store.put(settings=asdict(self.settings), pending_settings=self.pending_settings)
        return Outcome(True, "Settings: " + ("; ".join(msgs) if msgs else "no change") + ".")

    def _apply_live_values(self, values: dict[str, Any]) -> None:
        trust = values.get("trust")
        compromise = values.get("compromise")
        modelport.apply_live(self.model, trust=trust, compromise=compromise)
        if trust is not None:
            self.settings.trust = float(trust)
            for rec in self.recorders.values():
                rec.frames[-1].trust = rec.trust_now().copy()
        if compromise is not None:
            self.settings.compromise = float(compromise)

    def _do_reset(self, a: Action) -> Outcome:

        self._halt()
        try:
            self._build()
        except ScenarioError as exc:
            return Outcome(False, f"Those settings do not make a model: {exc}")
        return Outcome(
            True, f"The room starts again: {preset_label(self.settings.preset)}, {', '.join(self.settings.areas)}."
        )

    def _halt(self) -> None:
        """Stop the worker (people waited for are answered by agents) and wait until it has."""
        self.playing = False
        if self.busy:
            self._stop = True
            self._cond.notify_all()
            self._cond.wait_for(lambda: not self.busy, timeout=30)
        self._stop = False

    def close(self) -> None:
        """Stop the worker and close the session file (the server is shutting down)."""
        with self._cond:
            self._halt()
        if self.store is not None:
            self.store.close()

    def _stale_tick(self, a: Action) -> str | None:
        if a.tick is not None and a.tick != self.tick:
            return "The model has moved on since you pressed that: nothing done."
        return None

    def _do_step(self, a: Action) -> Outcome:
        if self.busy:
            return Outcome(False, "A step is under way: " + self.waiting_text())
        if why := self._stale_tick(a):
            return Outcome(False, why)
        if self.model.done:
            return Outcome(False, "The run is over: reset to start again.")
        m = self.model
        when = f"month {m.month_no + 1}" if m.phase == "delivery" else f"week {m.week_no}"
        self._start(steps=1)
        return Outcome(True, f"Step: {when} under way.")

    def _do_play(self, a: Action) -> Outcome:
        if self.model.done:
            return Outcome(False, "The run is over: reset to start again.")
        self.playing = True
        self.fast = False
        if not self.busy:
            self._start(steps=None)
        return Outcome(True, "Playing.")

    def _do_run(self, a: Action) -> Outcome:
        if self.model.done:
            return Outcome(False, "The run is over: reset to start again.")
        self.playing = True
        self.fast = True
        if not self.busy:
            self._start(steps=None)
        return Outcome(True, "Running to the end (people still get their turns).")

    def _do_pause(self, a: Action) -> Outcome:
        self.playing = False
        self.fast = False
        return Outcome(True, "Paused." if self.busy else "Paused (nothing was running).")

    def _do_skip(self, a: Action) -> Outcome:
        open_turns = self.waiting_for()
        if not open_turns:
            return Outcome(False, "Nobody is being waited for.")
        for t in open_turns:
            t.skipped = True
        names = ", ".join(self.party_name(t.seat) for t in open_turns)
        return Outcome(True, f"The model's agents answer for {names}.")

    def _do_timer(self, a: Action) -> Outcome:
        return self._do_configure(
            Action("configure", a.token, new_action_id(), data={"turn_seconds": a.data.get("seconds", 0)})
        )

    def _do_free_seat(self, a: Action) -> Outcome:
        if not isinstance(a.seat, int) or not 0 <= a.seat < len(self.seat_codes):
            return Outcome(False, "No such seat.")
        team = self.team(a.seat)
        if not team:
            return Outcome(False, f"{self.party_name(a.seat)} is already played by the model's agent.")
        for p in reversed(team):  # members first, so that nobody is promoted
            self._unseat(p)
        names = ", ".join(p.name for p in team)
        return Outcome(
            True,
            f"{names} no longer sit{'s' if len(team) == 1 else ''} as {self.party_name(a.seat)}; the agent plays it.",
        )

    def _do_replay(self, a: Action) -> Outcome:

        d = a.data
        try:
            request = {
                "parameter": str(d.get("parameter", "trust")),
                "a": float(d.get("a", 0.3)),
                "b": float(d.get("b", 0.8)),
            }
            self._run_replay(request)
        except (ValueError, TypeError, ScenarioError) as exc:
            return Outcome(False, f"Replay not run: {exc}")
        if self.store is not None:
            self.store.put(replay=request)
        r = self.replay
        return Outcome(
            True,
            f"Replay ready: {value_label(r.parameter, r.values[0])} against {value_label(r.parameter, r.values[1])}.",
        )

    def _run_replay(self, request: dict[str, Any]) -> None:

        self.replay = run_pair(self.settings, request["parameter"], request["a"], request["b"])

    # --- presence (pages that open and close) ----------------------------------------------------
    def attach(self, token: str, kernel: str) -> None:
        """A participant's page opened. Back within the grace period, or to a seat still free: seated again."""
        with self._cond:
            p = self.participants.get(token)
            if p is None:
                return
            p.kernels.add(kernel)
            if p.seat is None and p.last_seat in self.seat_codes and p.last_seat not in self.holders:
                p.seat = p.last_seat
                self.holders[p.seat] = p.token
                self._save_participant(p)
                self._log("room", f"{p.name} is back as {self.party_name(self.seat_codes.index(p.seat))}")
                self._changed()

    def detach(self, token: str, kernel: str) -> None:
        """A participant's page closed; with no page open after `leave_grace` seconds, the agent takes over."""
        with self._cond:
            p = self.participants.get(token)
            if p is None:
                return
            p.kernels.discard(kernel)
            if p.kernels or p.seat is None:
                return
        if self.leave_grace > 0:
            timer = threading.Timer(self.leave_grace, self._gone, args=(token,))
            timer.daemon = True
            timer.start()
        else:
            self._gone(token)

    def _gone(self, token: str) -> None:
        with self._cond:
            p = self.participants.get(token)
            if p is None or p.kernels or p.seat is None:
                return
            seat = self.seat_of(token)
            code = p.seat
            self._unseat(p)
            p.last_seat = code
            self._save_participant(p)
            if seat is not None:
                self._log("room", f"{p.name} left; the model's agent now plays {self.party_name(seat)}")
            self._changed()

    # --- the worker ----------------------------------------------------------------------------------
    def _start(self, steps: int | None) -> None:
        self.busy = True
        self._worker = threading.Thread(target=self._run, args=(steps,), name="workshop-model", daemon=True)
        self._worker.start()

    def _step_model(self) -> None:
        """One model step, journaled (or replayed), and the frame and log that follow it."""
        if self._replaying is None:
            self._journal("step", {"tick": self.tick + 1})
        self._asks = 0
        t0 = time.perf_counter()
        self._in_step = True
        try:
            self.model.step()
        finally:
            self._in_step = False
        self.tick += 1
        self.turns = {}
        for rec in self.recorders.values():
            rec.frame(self.tick)
        self.last_step_seconds = time.perf_counter() - t0
        if self._replaying is not None and not self._quiet:  # the resumed step under way is over
            for kind, data in self._replaying:
                if kind == "live":
                    self._apply_live_values(data)
            self._replaying = None
        self._journal("done", {"tick": self.tick})
        if self._pending_live:
            values, self._pending_live = self._pending_live, {}
            self._journal("live", {"ask": 0, **values})
            self._apply_live_values(values)
        self._after_step()

    def _run(self, steps: int | None) -> None:
        with self._cond:
            try:
                n = 0
                while not self.model.done and not self._stop:
                    self._step_model()
                    self._changed()
                    n += 1
                    if steps is not None and n >= steps:
                        break
                    if not self.playing:
                        break
                    delay = 0.0 if self.fast else self.settings.play_delay
                    if delay > 0:
                        self._cond.wait_for(lambda: self._stop or not self.playing, timeout=delay)
                    if not self.playing:
                        break
            except Exception as exc:  # show it in the room rather than lose it in a thread
                self.error = f"The model stopped with an error ({type(exc).__name__}); reset to start again."
                self._log("room", f"The model stopped with an error: {type(exc).__name__}: {exc}", ok=False)
                self.playing = False
            finally:
                self.busy = False
                if self.model.done:
                    self.playing = False
                self._changed()

    def _after_step(self) -> None:
        for rec in self.recorders.values():
            f = rec.frames[-1]
            prev = rec.frames[-2] if len(rec.frames) > 1 else None
            if prev is not None and prev.agreed_week is None and f.agreed_week is not None:
                self._log("room", f"Agreement at the {rec.area_name} table in week {f.agreed_week}")
            if prev is not None and prev.status != f.status:
                self._log("room", f"{rec.area_name}: {STATUS_LABEL.get(f.status, f.status)}")
        if self.model.done and self.outcome is None:
            self.outcome = self._outcome()

    def _outcome(self) -> dict[str, Any]:

        national, tables = collect(self.model)
        row = tables["areas"].iloc[self.focus].to_dict()
        return {
            "national": national,
            "area": row,
            "areas": tables["areas"],
            "months": int(self.model.params.delivery.months),
        }

    # --- reading ---------------------------------------------------------------------------------------
    def waiting_text(self) -> str:
        turns = self.waiting_for()
        if not turns:
            return "the model is thinking"
        bits = []
        for t in turns:
            p = self.holder(t.seat)
            who = f"{self.party_name(t.seat)} ({p.name})" if p else self.party_name(t.seat)
            what = {"propose": "propose", "respond": "answer", "review": "give a verdict"}[t.kind]
            if t.kind == "review" and t.figures:
                what += f" on {t.figures['area']}'s plan"
            bits.append(f"{who} to {what}")
        return "waiting for " + ", ".join(bits)

    def mean_trust(self) -> float:
        return mean_off_diagonal(self.recorder.trust_now())

    def snapshot(self, area: int | None = None):
        """Everything the public views show of one table people sit at (the focus table's by
        default), read under the lock (see `views.TableView`)."""

        with self._cond:
            if area is None or area not in self.recorders:
                area = self.focus
            cached = self._views.get(area)
            if cached is None or cached.version != self.version or cached.generation != self.generation:
                cached = self._views[area] = table_view(self, area)
            return cached
