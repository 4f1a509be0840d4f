#!/usr/bin/env python3
"""Play a short workshop in headless Chromium and save the trainer's guide screenshots.

Starts `python -m bettercare.workshop` with the hospitals at the table, opens the facilitator's
screen, the projector (1280x720) and three participants (council and CCG on laptops, the hospital
on a 360 px phone), with a team-mate (team advice on) at the council's seat and a participant in
the centre's assurance seat; plays some weeks, then frees the table's seats and runs on until the
centre's seat is asked for a verdict, then to the end, and opens the debrief with a side-by-side
replay. Every page runs with requests to anywhere but this machine
blocked. Solara scrolls inside its own container, so pages are shot in tall viewports rather
than as "full page" screenshots.

With `--three-tables` it plays only a room with people at three areas' tables at once (Wigan,
Bolton and Salford, hospitals at the table) and saves the join page and the facilitator's screen
while the three councils propose.

Usage: .venv/bin/python scripts/workshop_screenshots.py [--out docs/img] [--three-tables]
Needs: the workshop extra, playwright, /usr/bin/chromium and the assets
(bash scripts/fetch_workshop_assets.sh).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from bettercare.workshop.browser import join, launch, offline_context, press_slider, start_server

ROOT = Path(__file__).resolve().parent.parent


def free_seat(fac, seat: int, names: str) -> None:
    """Press Free this seat; a click that lands while the page re-renders is pressed again."""
    for _ in range(5):
        fac.locator(f".bc-seat-{seat}").get_by_text("Free this seat").click()
        try:
            fac.get_by_text(f"played by {names}").wait_for(state="detached", timeout=5_000)
            return
        except Exception:  # noqa: BLE001 - the click was lost: try again
            continue
    raise RuntimeError(f"seat {seat} ({names}) was not freed")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "img")
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument("--three-tables", action="store_true", help="only the three-table room's screenshots")
    args = ap.parse_args()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    if args.three_tables:
        three_tables(out, args.port)
        return
    server = start_server(
        "--scenario",
        "hospitals-in",
        "--area",
        "Wigan",
        "--room-code",
        "BCF2014",
        "--team-size",
        "2",
        "--team-advice",
        port=args.port,
    )
    try:
        with sync_playwright() as p:
            browser = launch(p)
            fctx, fguard = offline_context(browser, width=1500, height=1750)
            fac = fctx.new_page()
            fac.goto(server.facilitator_url)
            fac.locator(".bc-clock").wait_for(timeout=45_000)
            print(f"page ready {time.perf_counter() - server.started:.1f} s after the command")
            fac.get_by_text("Wigan Hospitals").first.wait_for()
            pctx, pguard = offline_context(browser, width=1280, height=720)
            proj = pctx.new_page()
            proj.goto(server.base + "/projector")
            proj.locator(".bc-story").wait_for(timeout=45_000)

            actx, aguard = offline_context(browser, width=1400, height=1500)
            bctx, bguard = offline_context(browser, width=1400, height=1200)
            cctx, cguard = offline_context(browser, width=360, height=1400)
            cy = join(cctx, server.base, server.code, "Cy", 2)
            ann = join(actx, server.base, server.code, "Ann", 0)
            bo_join = bctx.new_page()
            bo_join.goto(f"{server.base}/join")
            bo_join.get_by_label("Room code").fill(server.code)
            bo_join.get_by_label("Your name").fill("Bo")
            bo_join.get_by_text("taken by Ann").wait_for()
            bo_join.wait_for_timeout(500)  # let the text fields' label animation finish
            bo_join.screenshot(path=str(out / "workshop-join.png"))
            bo_join.locator(".bc-take-1").click()
            bo_join.get_by_text("Your brief").wait_for()
            bo = bo_join
            people = {"Ann": ann, "Bo": bo}

            dctx, dguard = offline_context(browser, width=1400, height=1500)  # Di joins Ann's team
            di = dctx.new_page()
            di.goto(f"{server.base}/join")
            di.get_by_label("Room code").fill(server.code)
            di.get_by_label("Your name").fill("Di")
            di.locator(".bc-take-0.bc-join-team").click()
            di.get_by_text("Your brief").wait_for()
            ectx, eguard = offline_context(browser, width=1400, height=1300)  # Ed takes the centre's seat
            ed = ectx.new_page()
            ed.goto(f"{server.base}/join")
            ed.get_by_label("Room code").fill(server.code)
            ed.get_by_label("Your name").fill("Ed")
            ed.get_by_role("button", name="Sit as The centre (assurance)").click()
            ed.locator(".bc-verdicts").wait_for()

            # Week 0: Ann (the council) proposes, with Di's suggestion; Bo (the CCG) and Cy answer.
            fac.locator(".bc-step").click()
            ann.get_by_text("Your turn: put a plan on the table").wait_for()
            di.locator(".bc-suggest").wait_for()
            press_slider(di, ".bc-plan-council", "PageUp")
            di.locator(".bc-suggest").click()
            di.get_by_text("Di suggests a plan to Ann.").wait_for()
            di.wait_for_timeout(500)
            di.screenshot(path=str(out / "workshop-team.png"))
            ann.locator(".bc-team-plan").wait_for()
            press_slider(ann, ".bc-plan-share-2", "PageUp")  # more for admission avoidance: the others make room
            ann.wait_for_timeout(800)
            ann.screenshot(path=str(out / "workshop-seat-propose.png"))
            ann.locator(".bc-propose").click()
            bo.get_by_text("Your turn: accept or reject the offer").wait_for()
            bo.wait_for_timeout(500)
            bo.screenshot(path=str(out / "workshop-seat-respond.png"))
            cy.get_by_text("Your turn: accept or reject the offer").wait_for()
            cy.wait_for_timeout(500)
            cy.screenshot(path=str(out / "workshop-phone.png"))
            people["Cy"] = cy
            bo.locator(".bc-reject").click()
            cy.locator(".bc-reject").click()
            fac.locator(".bc-clock", has_text="Week 1").wait_for()

            # A few more weeks: whoever is asked proposes the agent's suggestion or rejects.
            for week in range(1, 6):
                fac.locator(".bc-step").click()
                fac.locator(".bc-clock", has_text=f"Week {week}").wait_for()
                deadline = time.time() + 30
                while time.time() < deadline:
                    if fac.locator(".bc-clock", has_text=f"Week {week + 1}").count():
                        break
                    for page in people.values():
                        try:  # a page that re-renders under the click is tried again on the next pass
                            if page.get_by_text("Your turn: put a plan on the table").count():
                                page.locator(".bc-propose").click(timeout=5_000)
                                page.get_by_text("Your turn: put a plan").wait_for(state="detached", timeout=5_000)
                            elif page.get_by_text("Your turn: accept or reject").count():
                                page.locator(".bc-reject").click(timeout=5_000)
                                page.get_by_text("Your turn: accept or reject").wait_for(
                                    state="detached", timeout=5_000
                                )
                        except Exception:  # noqa: BLE001
                            continue
                    time.sleep(0.2)
            fac.locator(".bc-clock", has_text="Week 6").wait_for()
            fac.locator(".bc-dance canvas").first.wait_for()
            fac.wait_for_timeout(800)
            fac.screenshot(path=str(out / "workshop-facilitator.png"))
            fac.locator(".bc-step").click()
            proj.locator(".bc-clock", has_text="Week 6").wait_for()
            proj.wait_for_timeout(800)
            proj.screenshot(path=str(out / "workshop-projector.png"))

            # The table's seats go to the agents; the run goes on until the centre's seat is asked.
            for seat, name in ((0, "Ann, Di"), (1, "Bo"), (2, "Cy")):
                free_seat(fac, seat, name)
            fac.locator(".bc-run").click()
            ed.locator(".bc-your-turn", has_text="Assure Wigan's plan").wait_for(timeout=120_000)
            ed.wait_for_timeout(800)
            ed.screenshot(path=str(out / "workshop-centre.png"))
            ed.get_by_role("button", name="Approve with conditions").click()
            ed.locator(".bc-verdicts li").first.wait_for()
            free_seat(fac, 3, "Ed")  # the stress test decides from here

            # The debrief: the run goes on to the end; replay trust 0.3 against 0.8.
            if fac.locator(".bc-run").is_enabled():
                fac.locator(".bc-run").click()
            fac.get_by_text("Delivery year over").wait_for(timeout=60_000)
            fac.locator(".bc-sections").get_by_text("Debrief").click()
            fac.locator(".bc-outcomes").first.wait_for()
            fac.locator(".bc-replay").click()
            fac.locator(".bc-replay-A", has_text="Trust between partners: 0.3").wait_for()
            fac.locator(".bc-replay-B .bc-outcomes").wait_for()
            fac.locator(".bc-replay-story").wait_for()
            fac.wait_for_timeout(800)
            fac.screenshot(path=str(out / "workshop-debrief.png"))
            fac.locator(".bc-sections").get_by_text("Log and export").click()
            fac.locator(".bc-log").wait_for()
            fac.screenshot(path=str(out / "workshop-log.png"))
            for g in (fguard, aguard, bguard, cguard, pguard, dguard, eguard):
                assert not g.blocked, g.blocked
            browser.close()
    finally:
        server.stop()
    for f in sorted(out.glob("workshop-*.png")):
        print(f.relative_to(ROOT) if f.is_relative_to(ROOT) else f)


def three_tables(out: Path, port: int) -> None:
    """People at three tables in one room: the join page, and the facilitator's screen in week 0."""
    areas = ["Wigan", "Bolton", "Salford"]
    server = start_server(
        "--scenario",
        "hospitals-in",
        *[x for a in areas for x in ("--area", a)],
        "--table",
        "Bolton",
        "--table",
        "Salford",
        "--room-code",
        "BCF2014",
        port=port,
    )
    try:
        with sync_playwright() as p:
            browser = launch(p)
            fctx, fguard = offline_context(browser, width=1500, height=1500)
            fac = fctx.new_page()
            fac.goto(server.facilitator_url)
            fac.locator(".bc-clock").wait_for(timeout=45_000)
            guards = [fguard]
            people = []
            for k, name in enumerate(["Ann", "Bo", "Cy"]):
                ctx, guard = offline_context(browser, width=1400, height=1300)
                guards.append(guard)
                people.append(join(ctx, server.base, server.code, name, 3 * k))  # each table's council
            jctx, jguard = offline_context(browser, width=1100, height=1250)
            guards.append(jguard)
            dee = jctx.new_page()
            dee.goto(f"{server.base}/join")
            dee.get_by_label("Room code").fill(server.code)
            dee.get_by_label("Your name").fill("Dee")
            dee.get_by_text("taken by Cy").wait_for()
            dee.wait_for_timeout(500)
            dee.screenshot(path=str(out / "workshop-three-tables-join.png"))
            fac.locator(".bc-step").click()
            for page in people:
                page.get_by_text("Your turn: put a plan on the table").wait_for()
            fac.locator(".bc-waiting", has_text="Salford Council (Cy) to propose").first.wait_for()
            fac.wait_for_timeout(500)
            fac.screenshot(path=str(out / "workshop-three-tables.png"))
            for g in guards:
                assert not g.blocked, g.blocked
            browser.close()
    finally:
        server.stop()


if __name__ == "__main__":
    main()
