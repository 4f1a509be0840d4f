"""The workshop in real headless Chromium (Debian's /usr/bin/chromium through Playwright).

Every browser context blocks all requests that do not go to this machine, so these tests also
show that the app works with no internet. Each test starts its own server. Waits are for text
or elements, with generous timeouts for the first render; there are no fixed sleeps.

Measured figures (page ready after the command, step re-render with four seats) are printed and
written to $BETTERCARE_WORKSHOP_TIMINGS (default: bettercare-workshop-timings.json in the temp folder).
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

import pytest

from bettercare.workshop import assets
from bettercare.workshop.browser import CHROMIUM, join, launch, offline_context, press_slider, start_server


def _why_not() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} is missing (apt-get install -y chromium)"
    try:
        import playwright  # noqa: F401
        import solara  # noqa: F401
    except ImportError as exc:
        return f"{exc.name} is not installed (pip install -e '.[workshop]')"
    if assets.missing():
        return f"workshop assets missing from {assets.cache_dir()} (bash {assets.FETCH_HINT.split()[-1]})"
    return None


_reason = _why_not()
if _reason and os.environ.get("CI"):
    pytest.fail(f"browser tests cannot run in CI: {_reason}", pytrace=False)
pytestmark = [pytest.mark.slow, pytest.mark.skipif(_reason is not None, reason=_reason or "")]

READY = 45_000  # ms: the first render of a fresh server takes several seconds
TIMINGS = Path(os.environ.get("BETTERCARE_WORKSHOP_TIMINGS",
                              Path(tempfile.gettempdir()) / "bettercare-workshop-timings.json"))


def record(name: str, seconds: float) -> None:
    data = json.loads(TIMINGS.read_text()) if TIMINGS.exists() else {}
    data[name] = round(seconds, 3)
    TIMINGS.write_text(json.dumps(data, indent=2))
    print(f"\n[workshop timing] {name}: {seconds:.2f} s")


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = launch(p)
        yield b
        b.close()


@pytest.fixture
def server(request):
    """A fresh workshop: Wigan with the hospital left out (council and CCG), unless parametrized."""
    args = getattr(request, "param", ("--scenario", "hospitals-out", "--room-code", "TESTA"))
    s = start_server(*args)
    yield s
    s.stop()


@pytest.fixture
def contexts(browser):
    made = []

    def make(**kw):
        ctx, guard = offline_context(browser, **kw)
        made.append((ctx, guard))
        return ctx, guard
    yield make
    for ctx, _ in made:
        ctx.close()
    for _, guard in made:
        assert guard.blocked == [], f"requests left this machine: {guard.blocked}"
        assert guard.failed == [], f"requests failed: {guard.failed}"


def facilitator(contexts, server):
    ctx, _ = contexts()
    page = ctx.new_page()
    page.goto(server.facilitator_url)
    page.locator(".bc-clock").wait_for(timeout=READY)
    return page


def choose(page, label: str, option: str) -> None:
    page.locator(".v-select", has_text=label).first.click()
    page.get_by_role("option", name=option).click()


def test_facilitator_loads_a_preset_steps_moves_trust_and_sees_table_and_charts_change(contexts, server):
    fac = facilitator(contexts, server)
    choose(fac, "Scenario", "A coterminous area (Wigan)")
    fac.get_by_text("Facilitator · A coterminous area (Wigan)").wait_for()
    fac.get_by_text("No offers yet").wait_for()
    dance0 = fac.locator(".bc-dance img").screenshot()

    fac.locator(".bc-step").click()
    fac.locator(".bc-clock", has_text="Week 1").wait_for()
    fac.locator(".bc-lines", has_text="Week 0").wait_for()
    fac.get_by_text("1 offers so far").wait_for()
    dance1 = fac.locator(".bc-dance img").screenshot()
    assert dance1 != dance0

    trust0 = fac.locator(".bc-trust img").screenshot()
    caption0 = fac.locator(".bc-trust .bc-caption").inner_text()
    press_slider(fac, ".bc-set-trust", "End")
    fac.get_by_text("Trust between partners: 1.00").wait_for()
    fac.locator(".bc-trust .bc-caption", has_text="Mean trust at the table: 1.00").wait_for()
    assert caption0 != "Mean trust at the table: 1.00"
    fac.get_by_text("applied now: trust").wait_for()
    assert fac.locator(".bc-trust img").screenshot() != trust0

    fac.locator(".bc-step").click()
    fac.locator(".bc-clock", has_text="Week 2").wait_for()
    fac.get_by_text("2 offers so far").wait_for()
    assert fac.locator(".bc-lines", has_text="Week 1").count() >= 1


def test_two_participants_make_offers_and_agree_on_the_facilitators_screen(contexts, server):
    fac = facilitator(contexts, server)
    ann = join(contexts()[0], server.base, server.code.lower(), "Ann", 0)
    bo = join(contexts()[0], server.base, server.code, "Bo", 1)
    fac.get_by_text("played by Ann").wait_for()
    fac.get_by_text("played by Bo").wait_for()

    fac.locator(".bc-step").click()  # week 0: the council proposes
    ann.get_by_text("Your turn: put a plan on the table").wait_for()
    fac.get_by_text("Wigan Council (Ann) to propose").first.wait_for()
    ann.locator(".bc-propose").click()
    bo.get_by_text("Your turn: accept or reject the offer").wait_for()
    bo.locator(".bc-offer-score").wait_for()
    bo.locator(".bc-reject").click()
    fac.locator(".bc-lines", has_text="NHS Wigan Borough CCG (Bo) rejects").wait_for()

    fac.locator(".bc-step").click()  # week 1: the CCG proposes
    bo.get_by_text("Your turn: put a plan on the table").wait_for()
    bo.locator(".bc-propose").click()
    ann.get_by_text("Your turn: accept or reject the offer").wait_for()
    ann.locator(".bc-accept").click()

    fac.locator(".bc-status", has_text="plan agreed in week 1").wait_for()
    fac.locator(".bc-lines", has_text="Wigan Council (Ann) accepts. Agreed.").wait_for()
    fac.locator(".bc-pool .bc-caption", has_text="Agreed plan").wait_for()
    ann.locator(".bc-status", has_text="plan agreed in week 1").wait_for()


def test_acting_for_another_seat_and_an_invalid_plan_are_refused(contexts, server):
    fac = facilitator(contexts, server)
    ann = join(contexts()[0], server.base, server.code, "Ann", 0)
    bo = join(contexts()[0], server.base, server.code, "Bo", 1)
    fac.locator(".bc-step").click()
    ann.get_by_text("Your turn: put a plan on the table").wait_for()

    press_slider(ann, ".bc-plan-share-2", "End")  # admission avoidance to 100%: shares add up to far more
    ann.get_by_text("would be refused").wait_for()
    ann.locator(".bc-propose").click()
    refused = ann.locator(".bc-refused", has_text="Plan refused: the shares of the pool add up to")
    refused.wait_for()
    assert "they must add up to 100%" in refused.inner_text()
    fac.get_by_text("Wigan Council (Ann) to propose").first.wait_for()  # the turn is still open

    ann.get_by_text("Back to the agent's suggestion").click()
    ann.get_by_text("shares add up to 100.0%").wait_for()
    ann.locator(".bc-propose").click()
    bo.get_by_text("Your turn: accept or reject the offer").wait_for()

    ann.goto(ann.url + "&s=1")  # Ann edits her link to the CCG's seat and tries to answer for it
    ann.get_by_text("You are looking at the seat of NHS Wigan Borough CCG").wait_for()
    ann.get_by_text("private to whoever sits there").wait_for()
    ann.locator(".bc-accept").click()
    ann.locator(".bc-refused", has_text="You sit as Wigan Council; you cannot act for NHS Wigan Borough CCG").wait_for()
    bo.get_by_text("Your turn: accept or reject the offer").wait_for()  # still Bo's to answer
    fac.locator(".bc-waiting", has_text="NHS Wigan Borough CCG (Bo) to answer").wait_for()

    fac.locator(".bc-sections").get_by_text("Log and export").click()
    fac.locator(".bc-log", has_text="you cannot act for NHS Wigan Borough CCG").wait_for()


def test_every_page_renders_with_the_network_blocked(contexts, server):
    fac = facilitator(contexts, server)
    ctx, guard = contexts()
    home = ctx.new_page()
    home.goto(server.base + "/")
    home.get_by_text("Welcome to the Better Care Fund partnership workshop").wait_for(timeout=READY)
    ann = join(ctx, server.base, server.code, "Ann", 0)
    ann.get_by_text("What you care about most").wait_for()
    fac.locator(".bc-sections").get_by_text("Debrief").click()
    fac.get_by_text("Side-by-side replay").wait_for()
    fac.locator(".bc-replay").click()
    fac.locator(".bc-replay-A", has_text="Trust between partners: 0.3").wait_for()
    fac.locator(".bc-replay-B", has_text="Trust between partners: 0.8").wait_for()
    fac.locator(".bc-sections").get_by_text("Log and export").click()
    with fac.expect_download() as dl:
        fac.get_by_text("Download the session").click()
    assert dl.value.suggested_filename == f"workshop-{server.code}.zip"
    stranger = ctx.new_page()
    stranger.goto(server.base + "/facilitator?key=wrong")
    stranger.get_by_text("This page is for the facilitator").wait_for(timeout=READY)
    assert guard.blocked == [] and guard.failed == []


@pytest.mark.parametrize("server", [("--scenario", "hospitals-out", "--area", "Manchester", "--room-code", "PERF4")],
                         indirect=True, ids=["manchester"])
def test_page_ready_and_step_rerender_with_four_seats(contexts, server):
    fac = facilitator(contexts, server)
    record("page_ready_after_command_s", time.perf_counter() - server.started)
    assert time.perf_counter() - server.started < 15.0

    names = ["Ann", "Bo", "Cy", "Di"]
    people = [join(contexts()[0], server.base, server.code, n, i) for i, n in enumerate(names)]
    fac.get_by_text("played by Di").wait_for()

    # A facilitator's step: the model runs week 0 and waits for the council; all five pages show it.
    t0 = time.perf_counter()
    fac.locator(".bc-step").click()
    people[0].get_by_text("Your turn: put a plan on the table").wait_for()
    for p in people[1:]:
        p.locator(".bc-waiting", has_text="Manchester Council (Ann) to propose").wait_for()
    fac.locator(".bc-waiting", has_text="Manchester Council (Ann) to propose").wait_for()
    step_render = time.perf_counter() - t0
    record("step_rerender_4_seats_s", step_render)

    # A proposal: three people are asked at once.
    t0 = time.perf_counter()
    people[0].locator(".bc-propose").click()
    for p in people[1:]:
        p.get_by_text("Your turn: accept or reject the offer").wait_for()
    record("proposal_to_3_answer_panels_s", time.perf_counter() - t0)
    for p in people[1:-1]:
        p.locator(".bc-accept").click()
    t0 = time.perf_counter()
    people[-1].locator(".bc-accept").click()
    fac.locator(".bc-clock", has_text="Week 1").wait_for()
    for p in people:
        p.locator(".bc-clock", has_text="Week 1").wait_for()
    record("last_answer_to_week_end_on_5_pages_s", time.perf_counter() - t0)
    fac.locator(".bc-status", has_text="plan agreed in week 0").wait_for()
    assert step_render < 3.0  # the target is 1 s; the margin keeps a loaded CI machine from failing
