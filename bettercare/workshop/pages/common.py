"""What every page shares: waking on room changes, who this browser is, the top bar, messages,
charts, an error boundary, and the CSS (large type for the projector, one column on a phone)."""

from __future__ import annotations

import json
import os
import sys
import threading
import time
import traceback
from urllib.parse import parse_qs

import solara
import traitlets
from solara.components.echarts import EchartsWidget
from solara.server import kernel_context

from .. import charts, state
from ..access import FACILITATOR_COOKIE, SEAT_COOKIE, cookie_name
from ..story import outcome_cards

CSS = """
.bc-root { font-size: 15px; }
.bc-top { background: #1f3b5a; color: white; padding: 10px 18px; align-items: center; flex-wrap: wrap; }
.bc-top .bc-brand { font-size: 20px; font-weight: 600; }
.bc-code { font-size: 30px; font-weight: 700; letter-spacing: 4px; background: #ffd54f; color: #1f3b5a;
           padding: 2px 14px; border-radius: 6px; }
.bc-clock { font-size: 22px; font-weight: 600; color: #1f3b5a; }
.bc-phase { font-size: 16px; color: #555; }
.bc-current { font-size: 18px; background: #eef4fb; border-left: 5px solid #1f5fa8; padding: 8px 12px; }
.bc-lines { font-size: 14px; line-height: 1.45; }
.bc-line-week { color: #888; font-weight: 600; margin-right: 6px; }
.bc-seat { border: 2px solid #ddd; border-radius: 8px; padding: 6px 10px; min-width: 160px; background: white; }
.bc-seat-turn { border-color: #f0a500; background: #fff8e1; }
.bc-kind { font-size: 11px; text-transform: uppercase; color: #777; letter-spacing: 1px; }
.bc-card-figure { font-size: 24px; font-weight: 700; color: #1f3b5a; }
.bc-outcome { min-width: 190px; max-width: 240px; }
.bc-outcome .v-card__title { word-break: normal; overflow-wrap: normal; hyphens: none; white-space: normal; }
.bc-muted { color: #777; font-size: 13px; }
.bc-caption { color: #555; font-size: 13px; }
.bc-brief li { margin-bottom: 3px; }
.bc-big-button { font-size: 16px !important; }
.bc-slider-label { font-size: 13px; color: #333; margin-bottom: -14px; }
.bc-slider .v-input__slot { margin-bottom: 0; }
.bc-chart img { max-width: 100%; height: auto; }
.bc-cols { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; }
.bc-col { flex: 1 1 420px; min-width: 0; }
.bc-col-narrow { flex: 1 1 320px; min-width: 0; }
.bc-side { flex: 0 0 330px; min-width: 0; }
.bc-main { flex: 1 1 600px; min-width: 0; }
.bc-share-row { display: flex; align-items: center; gap: 8px; }
.bc-share-row .bc-slider { flex: 1 1 auto; min-width: 0; }
.bc-share-input { flex: 0 0 92px; max-width: 92px; }
.bc-buttons { display: flex; flex-wrap: wrap; gap: 8px; }
/* the projector: read from the back of the room */
.bc-projector { font-size: 22px; }
.bc-projector .bc-clock { font-size: 28px; }
.bc-projector .bc-phase { margin-top: -4px; }
.bc-projector .bc-phase { font-size: 22px; }
.bc-projector .bc-story { font-size: 24px; font-weight: 600; line-height: 1.25; color: #1f3b5a;
                          background: #eef4fb; border-left: 8px solid #1f5fa8; padding: 8px 16px; }
.bc-projector .bc-lines { font-size: 20px; }
.bc-projector .bc-caption { font-size: 18px; }
.bc-projector .bc-chart img { max-height: 430px; width: auto; max-width: 100%; }
.bc-figure .solara-echarts { width: 100%; }
.bc-projector .bc-seat { font-size: 18px; }
/* a phone: one column, nothing wider than the screen */
@media (max-width: 700px) {
  .bc-root { font-size: 14px; }
  .bc-top { padding: 6px 10px; }
  .bc-top .bc-brand { font-size: 16px; }
  .bc-code { font-size: 22px; }
  .bc-side, .bc-main, .bc-col, .bc-col-narrow { flex: 1 1 100%; }
  .bc-seat { min-width: 0; flex: 1 1 100%; }
  .bc-outcome { min-width: 0; max-width: 100%; }
  .bc-page { padding: 8px !important; }
  .bc-projector .bc-story { font-size: 20px; }
}
html, body { overflow-x: hidden; }
"""

TIMERS = {"No timer": 0, "30 seconds": 30, "1 minute": 60, "2 minutes": 120, "5 minutes": 300}
SPEEDS = {"Slow": 1.5, "Normal": 0.6, "Fast": 0.2}
_DEBUG = bool(os.environ.get("BETTERCARE_WORKSHOP_DEBUG"))
ANSWER_GAP = 0.5  # seconds: within a step, a page redraws the room's changes at most this often
THINKING_HOLD = 1.0  # seconds a page waits for a step under way to end before it draws "thinking"


# --- plumbing ------------------------------------------------------------------------------------


def use_query() -> dict[str, str]:
    router = solara.use_router()
    q = parse_qs(router.search or "")
    return {k: v[0] for k, v in q.items() if v}


def cookie(name: str) -> str:
    """A cookie this browser sent when the page opened (the keys are HTTP-only: pages cannot read them)."""
    jar = solara.lab.cookies.value or {}
    return str(jar.get(name, ""))


def facilitator_key(room: str = "") -> str:
    return cookie(cookie_name(FACILITATOR_COOKIE, room))


def seat_tokens(room: str = "") -> list[str]:
    return [t for t in cookie(cookie_name(SEAT_COOKIE, room)).split(".") if t]


def room_path(path: str, room: str = "") -> str:
    """An address inside the app for this room: /join, or /join?room=b for the second room of a server."""
    return path if not room else f"{path}{'&' if '?' in path else '?'}room={room}"


def browser_id() -> str:
    """The same for every tab of one browser (Solara's session cookie)."""
    try:
        return str(solara.get_session_id())
    except Exception:
        return ""


def use_room():

    q = use_query()
    return state.room(q.get("room", "")) or state.room()


def use_room_version(room) -> int:
    """Re-render this page whenever the room changes (from any browser or the model's thread)."""
    version, set_version = solara.use_state(room.version)

    def connect():
        ctx = kernel_context.get_current_context()
        wake = threading.Event()
        stop = threading.Event()
        unsubscribe = room.subscribe(wake.set)

        def loop():
            drawn_tick, drawn_at = room.tick, 0.0
            while not stop.is_set():
                wake.wait()
                if stop.is_set() or ctx.closed_event.is_set():
                    break
                # changes that come together (answers closing, a step ending) render once: wait until
                # the room has been quiet for 30 ms, at most 150 ms
                seen, t_end = room.version, time.perf_counter() + 0.15
                while not stop.wait(0.03) and room.version != seen and time.perf_counter() < t_end:
                    seen = room.version
                # within one step (answers coming in, a seat's prompt), draw at most every
                # ANSWER_GAP: a burst of answers is then drawn twice, not once per answer, and
                # the pages are free to draw the new week the moment it comes
                while room.tick == drawn_tick and time.perf_counter() < drawn_at + ANSWER_GAP and not stop.wait(0.01):
                    pass
                # while the model computes the rest of a step, wait for its end (at most THINKING_HOLD):
                # every page then draws the new week once, and the GIL is not spent on a moment
                # nobody sees (20 pages at 30-60 ms a render, on one Python process)
                t_end = time.perf_counter() + THINKING_HOLD
                while room.thinking and time.perf_counter() < t_end and not stop.wait(0.01):
                    pass
                wake.clear()
                try:
                    t0, drawn, drawn_tick = time.perf_counter(), room.version, room.tick
                    with ctx:
                        set_version(drawn)
                    drawn_at = time.perf_counter()
                    if _DEBUG:
                        print(
                            f"[render] {threading.current_thread().name} v{drawn} "
                            f"{time.perf_counter() - t0:.3f}s at {time.time():.3f}",
                            flush=True,
                        )
                except Exception:
                    break
                stop.wait(0.05)  # at most 20 renders a second, however busy the room
            unsubscribe()

        threading.Thread(target=loop, name="workshop-view", daemon=True).start()

        def cleanup():
            stop.set()
            wake.set()

        return cleanup

    solara.use_effect(connect, [id(room)])
    return version


def use_view(room, area: int | None = None):
    """The room's snapshot of one table people sit at (the focus table's by default)."""
    version = use_room_version(room)
    return solara.use_memo(lambda: room.snapshot(area), [version, id(room), room.version, area])


def send(room, action, set_message=None):
    out = room.act(action)
    if set_message is not None:
        set_message((out.ok, out.message))
    return out


def number(value, default: float) -> float:
    """A number from a widget; anything else (a forced text value) keeps the default."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return default
    return v if v == v and abs(v) != float("inf") else default


def esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@solara.component_vue("redirect.vue")
def Redirect(url: str):
    """Send the browser to `url` with a full page load (a one-time link that sets a cookie)."""


def guarded(page):
    """The page wrapped in an error boundary: a failure shows a plain message, never a traceback.

    The page's element must be made inside the boundary's own render for reacton to route the
    page's exceptions to it (an element passed in as a child belongs to whoever made it).
    """

    @solara.component
    def Guarded():
        exc, clear = solara.use_exception()
        if exc is not None:
            print("".join(traceback.format_exception(exc)), file=sys.stderr, flush=True)
            with solara.Column(style={"padding": "20px"}):
                solara.Error(
                    "Something went wrong on this page, and nothing was changed. Press the button to go on.",
                    classes=["bc-page-error"],
                )
                solara.Button("Go on", on_click=clear, color="primary")
            return
        page()

    Guarded.__name__ = Guarded.__qualname__ = f"Guarded{page.__name__}"
    return Guarded


@solara.component
def Message(message):
    if message is None:
        return
    ok, text = message
    if ok:
        solara.Success(text, classes=["bc-message", "bc-ok"], dense=True)
    else:
        solara.Error(text, classes=["bc-message", "bc-refused"], dense=True)


@solara.component
def Countdown(deadline: float | None):
    """Seconds left on a turn timer, ticking in this browser only."""
    now, set_now = solara.use_state(time.time())

    def tick():
        if deadline is None:
            return
        ctx = kernel_context.get_current_context()
        stop = threading.Event()

        def loop():
            while not stop.wait(1.0):
                try:
                    with ctx:
                        set_now(time.time())
                except Exception:
                    return
                if time.time() > deadline + 1:
                    return

        threading.Thread(target=loop, daemon=True).start()
        return stop.set

    solara.use_effect(tick, [deadline])
    if deadline is None:
        return
    left = max(0, int(deadline - now))
    solara.Text(
        f"{left} s left: then the model's agent answers for you",
        classes=["bc-timer"],
        style={"font-weight": "600", "color": "#b35c00"},
    )


# --- shared pieces --------------------------------------------------------------------------------


@solara.component
def TopBar(view, subtitle: str = "", show_code: bool = False):
    """The bar on every page. The room code shows only on the facilitator's and the projector's screens."""
    with solara.Row(
        classes=["bc-top"],
        justify="space-between",
        style={
            "background": "#1f3b5a",
            "color": "white",
            "padding": "10px 18px",
            "align-items": "center",
            "flex-wrap": "wrap",
        },
    ):
        with solara.Column(gap="0px", style={"background": "transparent"}):
            solara.Text("Better Care Fund workshop", classes=["bc-brand"])
            if subtitle:
                solara.Text(subtitle, style={"font-size": "14px", "opacity": "0.9"})
        if show_code:
            with solara.Row(style={"align-items": "center", "background": "transparent", "flex-wrap": "wrap"}):
                solara.Text("Room code", style={"font-size": "14px"})
                solara.Text(view.code, classes=["bc-code", "bc-room-code"])
                if view.join_url:
                    solara.Text(f"join at {view.join_url}", style={"font-size": "14px"}, classes=["bc-join-url"])


@solara.component
def Clock(view):
    with solara.Column(gap="0px"):
        week = f"Week {view.week}" if view.phase not in ("delivery", "done") else f"Month {view.month}"
        solara.Text(f"{week} · {view.countdown}", classes=["bc-clock"])
        status = view.status
        if view.agreed_week is not None and status == "talking":
            status = f"plan agreed in week {view.agreed_week}, to be submitted at the deadline"
        elif view.agreed_week is not None:
            status = f"{status} (agreed in week {view.agreed_week})"
        solara.Text(f"{view.phase_label} · {view.area_name}: {status}", classes=["bc-phase", "bc-status"])


@solara.component
def Narrative(view, n: int = 8):
    if view.current:
        solara.HTML(tag="div", unsafe_innerHTML=esc(view.current), classes=["bc-current"])
    if not view.lines:
        if not view.current:
            solara.Text(
                "No offers yet. The first proposer opens when the facilitator steps the model.",
                classes=["bc-muted", "bc-lines"],
            )
        return
    with solara.Column(gap="4px", classes=["bc-lines"]):
        for week, text in view.lines[:n]:
            label = f"Week {week}" if week >= 0 else "The centre"
            solara.HTML(tag="div", unsafe_innerHTML=f"<span class='bc-line-week'>{label}</span>{esc(text)}")


@solara.component
def OutcomeCards(area: dict, months: int, title: str = "After delivery"):
    solara.Text(title, style={"font-weight": "600", "font-size": "16px"})
    with solara.Row(style={"flex-wrap": "wrap"}, classes=["bc-outcomes"]):
        for head, figure, detail in outcome_cards(area, months):
            with solara.Card(head, classes=["bc-outcome"], margin=0):
                solara.Text(figure, classes=["bc-card-figure"])
                solara.HTML(tag="div", unsafe_innerHTML=esc(detail), classes=["bc-muted"])


@solara.component
def Slider(label: str, value, min, max, step, on_value, cls: str, integer: bool = False):
    """A slider with its label (and value) above it, findable by `cls`."""
    with solara.Column(gap="0px", classes=["bc-slider", cls]):
        solara.Text(label, classes=["bc-slider-label"])
        if integer:
            solara.SliderInt("", value=int(value), min=int(min), max=int(max), step=int(step), on_value=on_value)
        else:
            solara.SliderFloat("", value=float(value), min=min, max=max, step=step, on_value=on_value)


class EchartsFromJson(EchartsWidget):
    """Solara's ECharts widget, given its option as one JSON string.

    Why: at every render reacton walks each dict and list in a widget's arguments looking for
    elements, and compares them item by item. A chart's option holds every data point, so 20
    pages re-rendering a week meant tens of thousands of visits; one string is one comparison, and
    an unchanged chart sends nothing. The browser still receives the option as before.
    """

    option_json = traitlets.Unicode("")  # not synced: `option` is

    @traitlets.observe("option_json")
    def _parse(self, change) -> None:
        self.option = json.loads(change.new) if change.new else {}


def _plain(x):
    """numpy numbers in a chart's option, as JSON numbers."""
    return x.item() if hasattr(x, "item") else str(x)


def Figure(option: dict, cls: str = "", height: int = 360, caption: str = "", grow: str = "1 1 420px"):
    """A live chart, drawn by ECharts in the browser (hover for values), with an optional caption.

    A plain function, not a component: the option goes into the element as its JSON text. Reacton
    walks every argument of every element in a container looking for child elements, and compares
    arguments between renders, so a chart's nested option (thousands of numbers) passed as a dict
    cost a walk and a deep comparison on every render of every page."""
    return FigureJson(json.dumps(option, default=_plain), cls, height, caption, grow)


@solara.component
def FigureJson(text: str, cls: str, height: int, caption: str, grow: str):
    with solara.Column(
        gap="2px",
        classes=["bc-figure"] + ([cls] if cls else []),
        style={"flex": grow, "min-width": "0", "width": "100%"},
    ):
        EchartsFromJson.element(
            option_json=text, attributes={"style": f"height: {height}px; width: 100%;"}, responsive=True
        )
        if caption:
            solara.Text(caption, classes=["bc-caption"])


@solara.component
def Chart(png: bytes, caption: str = "", cls: str = "", width: str = "100%"):
    with solara.Column(
        gap="2px", classes=["bc-chart"] + ([cls] if cls else []), style={"max-width": width, "width": "100%"}
    ):
        solara.Image(png, width="100%")
        if caption:
            solara.Text(caption, classes=["bc-caption"])


__all__ = [
    "CSS",
    "Chart",
    "Figure",
    "Clock",
    "Countdown",
    "guarded",
    "Message",
    "Narrative",
    "OutcomeCards",
    "Redirect",
    "SPEEDS",
    "Slider",
    "TIMERS",
    "TopBar",
    "browser_id",
    "charts",
    "cookie",
    "esc",
    "facilitator_key",
    "number",
    "room_path",
    "seat_tokens",
    "send",
    "use_query",
    "use_room",
    "use_view",
]
