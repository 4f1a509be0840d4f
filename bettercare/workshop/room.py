"""The workshop room: settings, the model, seats, tokens, turns and the action log.

One `Room` lives in the server process and is shared by every browser: the facilitator's and
each participant's. Every action, from anyone, goes through `Room.act`, which checks it:

- facilitator actions need the facilitator's token;
- joining needs the room code and a free seat;
- a participant acts only for their own seat, only on a turn that is open for that seat, and
  only once (an action id seen before, or a turn or week that is over, does nothing);
- a plan must be valid (shares add up, floors met, values in range), or it is refused with a
  message saying why.

People sit at one table, the *focus* area's, through `PersonSeat`s. The negotiation code calls
`propose` and `respond` on them as on any negotiator; a `PersonSeat` asks the room, which waits for the
person, and lets the model's agent answer when the seat is empty, the person leaves, the turn
timer runs out, or the facilitator moves on. The model steps in a worker thread so that it can
wait for people; the room's lock is released while it waits.
"""

from __future__ import annotations

import hmac
import math
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from bettercare.vocabulary.plan import FLOORS, LINES, N_SLOTS, Slot, pool_relative

from .history import KIND_LABEL, Recorder, mean_off_diagonal

# The presets a trainer picks from: (preset name, label, default area).
WORKSHOP_PRESETS: list[tuple[str, str, str]] = [
    ("england-2014", "England 2014", "Wigan"),
    ("hospitals-out", "Hospitals left out", "Wigan"),
    ("holdout-council", "The partner who will not compromise", "Wigan"),
    ("co-located", "Co-located teams (Sunderland)", "Sunderland"),
    ("coterminous", "A coterminous area (Wigan)", "Wigan"),
    ("enabling-centre", "An enabling centre", "Wigan"),
    ("long-deadline", "A long deadline", "Wigan"),
]
PRESET_LABEL = {name: label for name, label, _ in WORKSHOP_PRESETS}
PRESET_AREA = {name: area for name, _, area in WORKSHOP_PRESETS}

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L
MAX_AREAS = 12
MAX_NAME = 40
SHARE_TOLERANCE = 1e-6

PARTICIPANT_KINDS = {"join", "leave", "propose", "respond"}
FACILITATOR_KINDS = {"configure", "reset", "step", "play", "pause", "run", "skip", "timer", "free_seat", "replay"}


def new_code(n: int = 5) -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(n))


def new_token() -> str:
    return secrets.token_urlsafe(16)


def new_action_id() -> str:
    return secrets.token_hex(8)


@dataclass(frozen=True)
class Action:
    """Something a person asks the room to do.

    `action_id` is unique per click (made by the page); `turn` and `week` name the turn the
    action answers, and `tick` the model step the facilitator saw, so that a late or repeated
    action does nothing.
    """

    kind: str
    token: str = ""
    action_id: str = field(default_factory=new_action_id)
    seat: int | None = None
    turn: int | None = None
    week: int | None = None
    tick: int | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    ok: bool
    message: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class Settings:
    preset: str = "england-2014"
    areas: list[str] = field(default_factory=lambda: ["Wigan"])
    focus: str = "Wigan"
    trust: float = 0.5
    compromise: float = 1.0
    deadline_weeks: int = 16
    hospitals: float = 0.25
    seed: int = 1
    turn_seconds: int = 0  # 0: no timer, people take the time they need
    play_delay: float = 0.6  # seconds between weeks when playing

    @classmethod
    def for_preset(cls, preset: str, areas: list[str] | None = None, **kw) -> Settings:
        from bettercare.model.scenario import load_scenario

        p = load_scenario(preset).params
        areas = list(areas) if areas else [PRESET_AREA.get(preset, "Wigan")]
        base = dict(preset=preset, areas=areas, focus=areas[0], trust=p.trust.initial,
                    compromise=p.negotiation.compromise, deadline_weeks=p.deadline.weeks,
                    hospitals=p.acute.at_table)
        base.update(kw)
        return cls(**base)

    def overrides(self) -> dict[str, Any]:
        return {"areas.names": list(self.areas), "trust.initial": float(self.trust),
                "negotiation.compromise": float(self.compromise), "deadline.weeks": int(self.deadline_weeks),
                "acute.at_table": float(self.hospitals)}


STRUCTURAL = {"preset", "areas", "focus", "deadline_weeks", "hospitals", "seed"}
LIVE = {"trust", "compromise"}
OTHER_SETTINGS = {"turn_seconds", "play_delay"}


@dataclass
class Participant:
    token: str
    name: str
    seat: str | None  # org code of the seat held, or None
    joined: float
    kernels: set[str] = field(default_factory=set)  # open pages (Solara kernels) of this person
    last_seat: str | None = None  # the seat they held before their pages closed


@dataclass
class Turn:
    """A move the table is waiting for from a person."""

    id: int
    seat: int
    kind: str  # propose | respond
    week: int
    offer: int | None
    opened: float
    deadline: float | None
    answer: Any = None
    closed: bool = False
    skipped: bool = False


@dataclass
class LogEntry:
    id: int
    time: float
    who: str
    text: str
    ok: bool = True


class PersonSeat:
    """A seat a person may take: it wraps the organisation, which answers when nobody does.

    The negotiation calls it like any other `Negotiator`."""

    def __init__(self, room: Room, agent):
        self.room = room
        self.agent = agent  # the organisation in this seat

    def propose(self, table, party: int) -> int:
        answer = self.room._ask(table, party, "propose", None)
        return int(self.agent.propose(table, party)) if answer is None else int(answer)

    def respond(self, table, party: int, offer: int) -> bool:
        answer = self.room._ask(table, party, "respond", offer)
        return bool(self.agent.respond(table, party, offer)) if answer is None else bool(answer)


class Room:
    """One workshop: a model, a table people sit at, and everyone's actions."""

    def __init__(self, settings: Settings | None = None, code: str | None = None, token: str | None = None,
                 join_url: str = ""):
        self.code = (code or new_code()).upper()
        self.facilitator_token = token or new_token()
        self.join_url = join_url
        self.settings = settings or Settings.for_preset("england-2014")
        self.pending_settings = False  # structural settings changed since the model was built
        self._cond = threading.Condition(threading.RLock())
        self._listeners: list[Callable[[], None]] = []
        self.version = 0
        self.participants: dict[str, Participant] = {}
        self.holders: dict[str, str] = {}  # org code -> participant token
        self.turns: dict[int, Turn] = {}  # seat index -> open turn
        self._turn_ids = 0
        self._seen_actions: set[str] = set()
        self.log: list[LogEntry] = []
        self.model = None
        self.recorder: Recorder | None = None
        self.focus = 0
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
        self._view = None
        self.leave_grace = 8.0  # seconds a seat waits for a person whose pages all closed (a reload)
        with self._cond:
            self._build()

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

    # --- building ----------------------------------------------------------------------------
    def _build(self) -> None:
        from bettercare.model.model import BetterCareModel
        from bettercare.model.scenario import load_scenario

        s = self.settings
        sc = load_scenario(s.preset, s.overrides())
        model = BetterCareModel(sc.params, rng=s.seed)
        names = list(model.area_frame.area_name)
        focus = names.index(s.focus) if s.focus in names else 0
        s.focus = names[focus]
        table = model.tables[focus]
        table.negotiators = [PersonSeat(self, org) for org in table.parties]
        self.model = model
        self.scenario = sc
        self.focus = focus
        self.recorder = Recorder(model, focus)
        self.tick = 0
        self.turns = {}
        self.outcome = None
        self.error = None
        self.pending_settings = False
        codes = set(table.codes)
        for code, tok in list(self.holders.items()):
            if code not in codes:
                del self.holders[code]
                p = self.participants.get(tok)
                if p is not None:
                    p.seat = None
                    self._log(p.name, f"{p.name}'s seat is not at the new table: choose a new seat")

    @property
    def table(self):
        return self.model.tables[self.focus]

    def party_name(self, seat: int) -> str:
        return self.table.parties[seat].name

    def seat_of(self, token: str) -> int | None:
        p = self.participants.get(token)
        if p is None or p.seat is None:
            return None
        codes = self.table.codes
        return codes.index(p.seat) if p.seat in codes else None

    def holder(self, seat: int) -> Participant | None:
        tok = self.holders.get(self.table.codes[seat])
        return self.participants.get(tok) if tok else None

    def is_facilitator(self, token: str) -> bool:
        return bool(token) and hmac.compare_digest(str(token), self.facilitator_token)

    def check_code(self, code: str) -> bool:
        return hmac.compare_digest(str(code or "").strip().upper(), self.code)

    # --- the log -----------------------------------------------------------------------------
    def _log(self, who: str, text: str, ok: bool = True) -> None:
        self.log.append(LogEntry(len(self.log), time.time(), who, text, ok))

    # --- the one door for actions --------------------------------------------------------------
    def act(self, action: Action) -> Outcome:
        """Check an action and carry it out; the outcome says what happened or why not."""
        with self._cond:
            out = self._act(action)
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
        return [i for i, c in enumerate(self.table.codes) if c not in self.holders]

    def _do_join(self, a: Action) -> Outcome:
        d = a.data
        if not self.check_code(d.get("code", "")):
            return Outcome(False, "That is not this room's code: check the code on the facilitator's screen.")
        name = " ".join(str(d.get("name", "")).split())[:MAX_NAME]
        if not name:
            return Outcome(False, "Please give your name.")
        seat = a.seat
        if seat is None or not isinstance(seat, int) or not 0 <= seat < self.table.n:
            return Outcome(False, "Choose one of the seats at the table.")
        p = self.participants.get(a.token) if a.token else None
        if p is not None and p.seat is not None and p.seat in self.table.codes:
            mine = self.party_name(self.seat_of(a.token))
            return Outcome(False, f"You already sit as {mine}: leave that seat first.")
        code = self.table.codes[seat]
        if code in self.holders:
            return Outcome(False, f"{self.party_name(seat)} is taken: choose a free seat.")
        if p is None:
            p = Participant(new_token(), name, None, time.time())
            self.participants[p.token] = p
        p.name = name
        p.seat = code
        self.holders[code] = p.token
        kind = KIND_LABEL.get(self.table.parties[seat].kind, "")
        return Outcome(True, f"{name} sits as {self.party_name(seat)} ({kind}).", {"token": p.token, "seat": seat})

    def _do_leave(self, a: Action) -> Outcome:
        p = self.participants.get(a.token)
        if p is None or p.seat is None:
            return Outcome(False, "You do not have a seat.")
        seat = self.seat_of(a.token)
        self._unseat(p)
        name = self.party_name(seat) if seat is not None else "the seat"
        return Outcome(True, f"{p.name} left; the model's agent now plays {name}.")

    def _unseat(self, p: Participant) -> None:
        if p.seat is not None and self.holders.get(p.seat) == p.token:
            del self.holders[p.seat]
        p.seat = None

    def _check_seat(self, a: Action) -> tuple[Participant | None, str | None]:
        p = self.participants.get(a.token)
        if p is None:
            return None, "You have not joined this room: open the join page and take a seat."
        mine = self.seat_of(a.token)
        if mine is None:
            return None, "You do not have a seat at the table: join first."
        if a.seat is None or a.seat != mine:
            other = (self.party_name(a.seat) if isinstance(a.seat, int) and 0 <= a.seat < self.table.n
                     else "another seat")
            return None, f"You sit as {self.party_name(mine)}; you cannot act for {other}."
        return p, None

    def _check_turn(self, a: Action, kind: str) -> tuple[Turn | None, str | None]:
        turn = self.turns.get(a.seat)
        if turn is None or turn.closed or turn.kind != kind:
            what = "propose" if kind == "propose" else "answer an offer"
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
            plan = self.plan_from(a.data)
            index = self.table.add_plan(plan)
        except ValueError as exc:
            return Outcome(False, f"Plan refused: {exc}")
        turn.answer = index
        self.recorder.note_person(turn.week, self.table.codes[a.seat], p.name)
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
        self.recorder.note_person(turn.week, self.table.codes[a.seat], p.name)
        verb = "accepts" if accept else "rejects"
        return Outcome(True, f"{p.name} {verb} the offer for {self.party_name(a.seat)}.")

    # --- plans from people ---------------------------------------------------------------------------
    def plan_limits(self) -> dict[str, float]:
        prm = self.model.params
        m = float(self.model.minimum_gbp[self.focus])
        return {"minimum_gbp": m, "max_topup_m": math.floor(prm.money.max_topup * m / 1e5) / 10,
                "ambition_max_pct": 100 * prm.planning.ambition_max}

    def plan_from(self, data: dict[str, Any]) -> np.ndarray:
        """A plan vector from what a person set: top-ups in £m, shares of the pool in %, ambition in %.

        Raises ValueError with a message for people when the plan breaks a rule; the model's own
        `Table.add_plan` checks it again.
        """
        lim = self.plan_limits()
        m = lim["minimum_gbp"]
        try:
            council = float(data["council_topup_m"])
            ccg = float(data["ccg_topup_m"])
            shares = [float(x) for x in data["shares_pct"]]
            ambition = float(data["ambition_pct"])
        except (KeyError, TypeError, ValueError):
            raise ValueError("a plan needs two top-ups, five shares and an ambition, as numbers") from None
        if len(shares) != len(LINES) or not all(map(math.isfinite, [council, ccg, ambition, *shares])):
            raise ValueError("a plan needs two top-ups, five shares and an ambition, as numbers")
        for who, v in (("council's", council), ("CCG's", ccg)):
            if not 0 <= v <= lim["max_topup_m"] + 1e-9:
                raise ValueError(f"the {who} top-up must be between £0.0m and £{lim['max_topup_m']:.1f}m")
        if not 0 <= ambition <= lim["ambition_max_pct"] + 1e-9:
            raise ValueError(f"the ambition must be between 0% and {lim['ambition_max_pct']:.0f}%")
        if any(s < 0 for s in shares):
            raise ValueError("no share of the pool can be negative")
        total = sum(shares)
        if abs(total - 100) > 100 * SHARE_TOLERANCE:
            raise ValueError(f"the shares of the pool add up to {total:.1f}%; they must add up to 100%")
        plan = np.zeros(N_SLOTS)
        plan[Slot.COUNCIL_TOPUP] = council * 1e6 / m
        plan[Slot.CCG_TOPUP] = ccg * 1e6 / m
        plan[LINES] = np.array(shares) / 100
        plan[Slot.AMBITION] = ambition / 100
        from .story import LINE_LABELS, gbp
        spend = plan[LINES] * pool_relative(plan[None])[0]
        for i in range(len(LINES)):
            if spend[i] < FLOORS[i] - 1e-9:
                raise ValueError(f"{LINE_LABELS[i]} gets {gbp(spend[i] * m)}, below its mandated floor of "
                                 f"{gbp(FLOORS[i] * m)}")
        return plan

    def plan_to_form(self, plan: np.ndarray) -> dict[str, Any]:
        """Slider values for a plan: shares rounded to 0.1% that still add up to 100% and meet floors."""
        m = float(self.model.minimum_gbp[self.focus])
        lim = self.plan_limits()
        council = min(round(float(plan[Slot.COUNCIL_TOPUP]) * m / 1e6, 1), lim["max_topup_m"])
        ccg = min(round(float(plan[Slot.CCG_TOPUP]) * m / 1e6, 1), lim["max_topup_m"])
        pool = 1 + council * 1e6 / m + ccg * 1e6 / m
        floor_pct = [100 * f / pool for f in FLOORS]
        shares = [max(round(100 * float(s), 1), math.ceil(fp * 10 - 1e-9) / 10)
                  for s, fp in zip(plan[LINES], floor_pct)]
        big = int(np.argmax(shares))
        shares[big] = round(shares[big] + 100 - sum(shares), 1)
        return {"council_topup_m": council, "ccg_topup_m": ccg, "shares_pct": shares,
                "ambition_pct": round(100 * float(plan[Slot.AMBITION]), 1)}

    def score(self, token: str, seat: int, data: dict[str, Any]) -> Outcome:
        """A seated person's own score (0-100) of a draft plan, or why the plan is not valid."""
        with self._cond:
            if self.seat_of(token) != seat:
                return Outcome(False, "You can only score plans for your own seat.")
            try:
                plan = self.plan_from(data)
            except ValueError as exc:
                return Outcome(False, str(exc))
            return Outcome(True, "ok", {"score": float(self.table.score(plan)[seat] * 100)})

    def suggestion(self, seat: int) -> np.ndarray:
        """What the model's agent would put on the table from this seat now."""
        t = self.table
        if getattr(t, "targets", None) is not None and getattr(t, "credible", None) is not None \
                and len(t.credible) == len(t.plans):
            return t.plans[int(t.parties[seat].propose(t, seat))]
        return t.plans[int(np.argmax(t.utility[seat]))]

    # --- the wait for people (called by PersonSeat in the worker thread, lock held) ------------
    def _ask(self, table, party: int, kind: str, offer: int | None):
        if table is not self.table or self._stop:
            return None
        if self.holder(party) is None:
            return None
        week = int(self.model.week_no)
        turn = self.turns.get(party)
        if kind == "propose":
            turn = self._open(party, "propose", week, None)
        elif turn is None or turn.kind != "respond" or turn.week != week or turn.offer != offer or turn.closed:
            for j in range(table.n):
                if j != table.proposer and self.holder(j) is not None:
                    self._open(j, "respond", week, offer)
            turn = self.turns[party]
        self._changed()
        answer, why = self._wait(turn)
        turn.closed = True
        if answer is None and why:
            self._log("room", f"{why}: the model's agent answered for {self.party_name(party)}")
        self._changed()
        return answer

    def _open(self, seat: int, kind: str, week: int, offer: int | None) -> Turn:
        self._turn_ids += 1
        now = time.time()
        secs = self.settings.turn_seconds
        t = Turn(self._turn_ids, seat, kind, week, offer, now, now + secs if secs > 0 else None)
        self.turns[seat] = t
        return t

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

    # --- the facilitator ---------------------------------------------------------------------------
    def _do_configure(self, a: Action) -> Outcome:
        from bettercare.model.areas import england
        from bettercare.model.scenario import PRESETS, ScenarioError

        d = dict(a.data)
        s = self.settings
        new = Settings(**asdict(s))
        if "preset" in d:
            if d["preset"] not in PRESET_LABEL and d["preset"] not in PRESETS:
                return Outcome(False, f"No preset named {d['preset']!r}.")
            keep = {k: d[k] for k in ("areas", "focus") if k in d}
            new = Settings.for_preset(d["preset"], keep.get("areas"), seed=s.seed,
                                      turn_seconds=s.turn_seconds, play_delay=s.play_delay)
            if "focus" in keep:
                new.focus = keep["focus"]
            d = {k: v for k, v in d.items() if k not in ("preset", "areas", "focus")}
        unknown = set(d) - STRUCTURAL - LIVE - OTHER_SETTINGS
        if unknown:
            return Outcome(False, f"Unknown setting {sorted(unknown)[0]!r}.")
        try:
            if "areas" in d:
                names = [str(x) for x in d["areas"]]
                known = set(england().areas.area_name)
                bad = [n for n in names if n not in known]
                if bad:
                    return Outcome(False, f"No area named {bad[0]!r}.")
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
            ranges = {"trust": (0.0, 1.0), "compromise": (0.05, 10.0), "deadline_weeks": (1, 104),
                      "hospitals": (0.0, 1.0), "seed": (0, 2**31 - 1), "turn_seconds": (0, 3600),
                      "play_delay": (0.0, 10.0)}
            for k, (lo, hi) in ranges.items():
                if k in d:
                    v = float(d[k])
                    if not (math.isfinite(v) and lo <= v <= hi):
                        return Outcome(False, f"{k.replace('_', ' ')} must be between {lo} and {hi}.")
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
            self._apply_live(changed & LIVE)
            msgs.append("applied now: " + ", ".join(sorted(changed & LIVE)))
        if "turn_seconds" in changed:
            for t in self.waiting_for():
                t.deadline = t.opened + new.turn_seconds if new.turn_seconds > 0 else None
            msgs.append("turn timer " + (f"{new.turn_seconds} s" if new.turn_seconds else "off"))
        if structural:
            self.pending_settings = True
            msgs.append("press Reset to start again with: " + ", ".join(sorted(structural)))
        return Outcome(True, "Settings: " + ("; ".join(msgs) if msgs else "no change") + ".")

    def _apply_live(self, keys: set[str]) -> None:
        """Trust and compromise change in the running model: new leaders, new instructions."""
        m = self.model
        s = self.settings
        if "trust" in keys:
            for code in m.orgs:
                m.trust.reset(code, s.trust)  # local relationships only; trust in the centre stays
            for t in m.tables:
                t.trust = m.trust.matrix(t.codes)
            m.params.trust.initial = s.trust
            self.recorder.frames[-1].trust = self.recorder.trust_now().copy()
        if "compromise" in keys:
            old = m.params.negotiation.compromise
            for o in m.orgs.values():
                if not o.holdout:
                    o.beta = o.beta * s.compromise / old
            m.params.negotiation.compromise = s.compromise

    def _do_reset(self, a: Action) -> Outcome:
        from bettercare.model.scenario import ScenarioError

        self._halt()
        try:
            self._build()
        except ScenarioError as exc:
            return Outcome(False, f"Those settings do not make a model: {exc}")
        return Outcome(True, f"The room starts again: {PRESET_LABEL.get(self.settings.preset, self.settings.preset)}, "
                             f"{', '.join(self.settings.areas)}.")

    def _halt(self) -> None:
        """Stop the worker (people waited for are answered by agents) and wait until it has."""
        self.playing = False
        if self.busy:
            self._stop = True
            self._cond.notify_all()
            self._cond.wait_for(lambda: not self.busy, timeout=30)
        self._stop = False

    def _stale_tick(self, a: Action) -> str | None:
        if a.tick is not None and a.tick != self.tick:
            return "The model has moved on since you pressed that: nothing done."
        return None

    def _do_step(self, a: Action) -> Outcome:
        if self.busy:
            return Outcome(False, "A step is under way: " + self.waiting_text())
        if (why := self._stale_tick(a)):
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
        return self._do_configure(Action("configure", a.token, new_action_id(),
                                         data={"turn_seconds": a.data.get("seconds", 0)}))

    def _do_free_seat(self, a: Action) -> Outcome:
        if a.seat is None or not 0 <= a.seat < self.table.n:
            return Outcome(False, "No such seat.")
        p = self.holder(a.seat)
        if p is None:
            return Outcome(False, f"{self.party_name(a.seat)} is already played by the model's agent.")
        self._unseat(p)
        return Outcome(True, f"{p.name} no longer sits as {self.party_name(a.seat)}; the agent plays it.")

    def _do_replay(self, a: Action) -> Outcome:
        from bettercare.model.scenario import ScenarioError

        from .replay import run_pair, value_label

        d = a.data
        try:
            self.replay = run_pair(self.settings, str(d.get("parameter", "trust")), float(d.get("a", 0.3)),
                                   float(d.get("b", 0.8)))
        except (ValueError, TypeError, ScenarioError) as exc:
            return Outcome(False, f"Replay not run: {exc}")
        r = self.replay
        return Outcome(True, f"Replay ready: {value_label(r.parameter, r.values[0])} against "
                             f"{value_label(r.parameter, r.values[1])}.")

    # --- presence (pages that open and close) ----------------------------------------------------
    def attach(self, token: str, kernel: str) -> None:
        """A participant's page opened. Back within the grace period, or to a seat still free: seated again."""
        with self._cond:
            p = self.participants.get(token)
            if p is None:
                return
            p.kernels.add(kernel)
            if p.seat is None and p.last_seat in self.table.codes and p.last_seat not in self.holders:
                p.seat = p.last_seat
                self.holders[p.seat] = p.token
                self._log("room", f"{p.name} is back as {self.party_name(self.table.codes.index(p.seat))}")
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
            if seat is not None:
                self._log("room", f"{p.name} left; the model's agent now plays {self.party_name(seat)}")
            self._changed()

    # --- the worker ----------------------------------------------------------------------------------
    def _start(self, steps: int | None) -> None:
        self.busy = True
        self._worker = threading.Thread(target=self._run, args=(steps,), name="workshop-model", daemon=True)
        self._worker.start()

    def _run(self, steps: int | None) -> None:
        with self._cond:
            try:
                n = 0
                while not self.model.done and not self._stop:
                    t0 = time.perf_counter()
                    self.model.step()
                    self.tick += 1
                    self.turns = {}
                    self.recorder.frame(self.tick)
                    self.last_step_seconds = time.perf_counter() - t0
                    self._after_step()
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
                self.error = f"{type(exc).__name__}: {exc}"
                self._log("room", f"The model stopped with an error: {self.error}", ok=False)
                self.playing = False
            finally:
                self.busy = False
                if self.model.done:
                    self.playing = False
                self._changed()

    def _after_step(self) -> None:
        f = self.recorder.frames[-1]
        prev = self.recorder.frames[-2] if len(self.recorder.frames) > 1 else None
        if prev is not None and prev.agreed_week is None and f.agreed_week is not None:
            self._log("room", f"Agreement at the {self.recorder.area_name} table in week {f.agreed_week}")
        if prev is not None and prev.status != f.status:
            from .story import STATUS_LABEL
            self._log("room", f"{self.recorder.area_name}: {STATUS_LABEL.get(f.status, f.status)}")
        if self.model.done and self.outcome is None:
            self.outcome = self._outcome()

    def _outcome(self) -> dict[str, Any]:
        from bettercare.model.results import collect

        national, tables = collect(self.model)
        row = tables["areas"].iloc[self.focus].to_dict()
        return {"national": national, "area": row, "areas": tables["areas"],
                "months": int(self.model.params.delivery.months)}

    # --- reading ---------------------------------------------------------------------------------------
    def waiting_text(self) -> str:
        turns = self.waiting_for()
        if not turns:
            return "the model is thinking"
        bits = []
        for t in turns:
            p = self.holder(t.seat)
            who = f"{self.party_name(t.seat)} ({p.name})" if p else self.party_name(t.seat)
            bits.append(f"{who} to {'propose' if t.kind == 'propose' else 'answer'}")
        return "waiting for " + ", ".join(bits)

    def mean_trust(self) -> float:
        return mean_off_diagonal(self.recorder.trust_now())

    def snapshot(self):
        """Everything the public views show, read under the lock (see `views.TableView`)."""
        from .views import table_view

        with self._cond:
            cached = self._view
            if cached is None or cached.version != self.version:
                cached = self._view = table_view(self)
            return cached
