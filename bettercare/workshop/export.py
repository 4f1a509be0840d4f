"""The session as files: a CSV of the offers (one row per party per offer), the log, the centre
seat's verdicts, and PNG charts."""

from __future__ import annotations

import io
import json
import time
import zipfile
from dataclasses import asdict

import pandas as pd

from bettercare.vocabulary.plan import Slot

from . import charts
from .debrief import replay_story, room_stories
from .history import KIND_LABEL
from .story import LINE_SHORT, pool_gbp, spend_gbp
from .views import _sentences

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def guard_cell(value):
    """A text cell a spreadsheet would run as a formula (=, +, -, @, tab, CR first) gets a leading '."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def guarded(df: pd.DataFrame) -> pd.DataFrame:
    """The table with every text cell guarded against formula injection (names come from people)."""
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object:
            out[col] = out[col].map(guard_cell)
    return out


def to_csv(df: pd.DataFrame) -> str:
    return guarded(df).to_csv(index=False)


LINE_COLUMNS = ["social_care", "community_health", "admission_avoidance", "acute_risk_share", "other"]


def offers_frame(
    parties, offers, minimum_gbp: float, area_name: str, sentences: dict[int, str] | None = None
) -> pd.DataFrame:
    rows = []
    for o in offers:
        spend = spend_gbp(o.plan, minimum_gbp)
        proposer = parties[o.proposer]
        for j, p in enumerate(parties):
            rows.append(
                {
                    "offer_id": o.oid,
                    "area": area_name,
                    "phase": o.phase,
                    "week": o.week,
                    "round": o.round,
                    "proposer": proposer.name,
                    "proposer_kind": proposer.kind,
                    "proposer_played_by": o.people.get(o.proposer, "agent"),
                    "party": p.name,
                    "party_kind": p.kind,
                    "played_by": o.people.get(j, "agent"),
                    "response": o.responses[j],
                    "worth_0_100": round(float(o.utility[j]) * 100, 2),
                    "bottom_line_0_100": round(float(o.reservation[j]) * 100, 2),
                    "target_0_100": round(float(o.target[j]) * 100, 2),
                    "agreed": o.agreed,
                    "pool_gbp": round(pool_gbp(o.plan, minimum_gbp)),
                    "council_topup_gbp": round(float(o.plan[Slot.COUNCIL_TOPUP]) * minimum_gbp),
                    "ccg_topup_gbp": round(float(o.plan[Slot.CCG_TOPUP]) * minimum_gbp),
                    **{f"spend_{c}_gbp": round(float(v)) for c, v in zip(LINE_COLUMNS, spend)},
                    "ambition": round(float(o.plan[Slot.AMBITION]), 5),
                    "in_words": (sentences or {}).get(o.oid, ""),
                }
            )
    return pd.DataFrame(rows)


def room_offers(room) -> pd.DataFrame:
    """Every offer at the tables people sat at, the focus table's first (the area is a column)."""
    frames = []
    with room._cond:
        for a in room.people:
            rec = room.recorders[a]
            rec.pull()
            sentences = dict(_sentences(room, a))
            frames.append(offers_frame(rec.parties, list(rec.offers), rec.minimum_gbp, rec.area_name, sentences))
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


def log_frame(room) -> pd.DataFrame:
    with room._cond:
        return pd.DataFrame(
            [
                {
                    "id": e.id,
                    "time": time.strftime("%H:%M:%S", time.localtime(e.time)),
                    "who": e.who,
                    "ok": e.ok,
                    "what": e.text,
                }
                for e in room.log
            ]
        )


def session_zip(room) -> bytes:
    """offers.csv, log.csv, verdicts.csv (when a person held the centre's seat), settings.json,
    outcome.csv (after delivery) and the charts as PNG."""
    view = room.snapshot()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("offers.csv", to_csv(room_offers(room)))
        z.writestr("log.csv", to_csv(log_frame(room)))
        if view.assurance.get("verdicts"):
            z.writestr("verdicts.csv", to_csv(pd.DataFrame(view.assurance["verdicts"])))
        z.writestr(
            "settings.json",
            json.dumps(
                {
                    "room": room.code,
                    **asdict(view.settings),
                    "parties": [{"name": p.name, "kind": KIND_LABEL[p.kind]} for p in view.parties],
                },
                indent=2,
            ),
        )
        z.writestr("dance.png", charts.dance_png(view))
        z.writestr("trust_network.png", charts.trust_png(view))
        z.writestr("pool.png", charts.pool_png(view))
        z.writestr("trust_over_time.png", charts.trust_time_png(view))

        stories = room_stories(room, view.deadlines)
        text = "\n\n".join(
            ("What happened at the table" if len(stories) == 1 else f"What happened at the {name} table")
            + "\n\n"
            + "\n".join(f"{i + 1}. {s}" for i, s in enumerate(story))
            for name, story in stories
        )
        if room.replay is not None:
            text += "\n\nWhy A and B differed\n\n" + "\n".join(
                f"{i + 1}. {s}" for i, s in enumerate(replay_story(room.replay))
            )
        z.writestr("debrief.txt", text + "\n")
        if view.outcome is not None:
            z.writestr("outcome.csv", to_csv(view.outcome["areas"].iloc[list(room.people)]))
        replay = room.replay
        if replay is not None:
            for i, run in enumerate(replay.runs):
                tag = "AB"[i]
                rec = run.recorder
                z.writestr(
                    f"replay_{tag}_offers.csv",
                    to_csv(offers_frame(rec.parties, rec.offers, rec.minimum_gbp, rec.area_name, run.sentences)),
                )
                z.writestr(
                    f"replay_{tag}_dance.png",
                    charts.to_png(
                        charts.dance(rec.parties, rec.offers, {}, title=f"{run.label}: the negotiation dance")
                    ),
                )
            z.writestr(
                "replay_trust_over_time.png",
                charts.to_png(
                    charts.trust_over_time(
                        [(r.label, r.trust_series()) for r in replay.runs], title="Trust over time: A against B"
                    )
                ),
            )
    return buf.getvalue()


__all__ = ["LINE_SHORT", "guard_cell", "guarded", "to_csv", "log_frame", "offers_frame", "room_offers", "session_zip"]
