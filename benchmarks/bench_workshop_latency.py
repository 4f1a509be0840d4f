"""Benchmark of the workshop with 20 browsers: how soon the next week shows everywhere.

Run from the project root (needs Debian's /usr/bin/chromium and the workshop's assets):

    .venv/bin/python benchmarks/bench_workshop_latency.py              # 5 weeks, about 3 minutes
    .venv/bin/python benchmarks/bench_workshop_latency.py --weeks 3    # quicker, noisier

Set-up, as in the issue's room: Kent with every hospital at the table (11 parties). 20 headless
Chromium contexts, each its own browser session with the network blocked: the facilitator, 11
participants (one per seat) and 8 projector views. Each week the facilitator presses Step, the
proposer puts the agent's suggested plan on the table, and the 10 others reject it (so the talks
go on). In every page a MutationObserver notes the browser's clock (Date.now()) the moment its
`.bc-clock` first reads "Week N+1"; the latency of the week is the last of those 20 moments
minus the moment the last answer was clicked. Target: median within 1 s.

The server runs with BETTERCARE_WORKSHOP_DEBUG=1, which prints when each page's render ended;
the script also reports when the server had rendered the new week for every page ("server
done"), so the time the 20 Chromium processes take to draw it on the same 2 cores is told apart
from the server's own time. In a real room each browser runs on its own laptop: `--split-cores`
gives the server one CPU of its own and the 20 browsers the other, the nearest this 2-core machine
comes to that. `--answer-gap S` spaces the answers S seconds apart, as people in a room answer;
by default they come all at once, so the pages are still drawing the earlier answers when the
last comes.

The server runs the code of the checkout this script is in (it starts in that folder), so to
measure older code, run that checkout's copy of the script: PYTHONPATH alone does not switch the
server, because `python -m` puts its working folder first on the import path.

The script prints the figures and `met` or `missed`; it never fails because a target is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bettercare.workshop.browser import join, launch, offline_context, start_server  # noqa: E402

WATCH = """(target) => {
  window.__bcSeen = 0;
  const check = () => {
    const el = document.querySelector('.bc-clock');
    if (!window.__bcSeen && el && el.textContent.includes(target)) { window.__bcSeen = Date.now(); }
  };
  check();
  if (!window.__bcSeen) {
    const obs = new MutationObserver(() => { check(); if (window.__bcSeen) obs.disconnect(); });
    obs.observe(document.body, {subtree: true, childList: true, characterData: true});
  }
}"""
READY = 90_000


def render_ends(output: list[str], start: float, end: float) -> list[tuple[float, str, float]]:
    """When the server's page renders ended (epoch seconds), between `start` and `end`, each with
    the room version it drew (renders of several versions in one week: pages drew a moment
    between the last answer and the new week), and how long the render took."""
    out = []
    for line in list(output):
        if line.startswith("[render]") and " at " in line:
            t = float(line.rsplit(" at ", 1)[1])
            if start <= t <= end:
                parts = line.split()
                out.append((t, parts[2], float(parts[3].rstrip("s"))))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weeks", type=int, default=5, help="weeks to time (default 5)")
    ap.add_argument("--area", default="Kent")
    ap.add_argument("--browsers", type=int, default=20, help="browser contexts in all (default 20)")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    ap.add_argument(
        "--split-cores",
        action="store_true",
        help="the server on CPU 0 alone, this script and the 20 browsers on CPU 1 (a real room's "
        "server does not share its cores with the participants' browsers)",
    )
    ap.add_argument(
        "--answer-gap",
        type=float,
        default=0.0,
        help="seconds between one participant's answer and the next (default 0: all at once, the "
        "worst case; people in a room answer seconds apart)",
    )
    args = ap.parse_args()
    if args.split_cores and len(os.sched_getaffinity(0)) < 2:
        raise SystemExit("--split-cores needs at least 2 CPUs")
    cpus = sorted(os.sched_getaffinity(0))

    from playwright.sync_api import sync_playwright

    if args.split_cores:
        os.sched_setaffinity(0, {cpus[0]})  # the server, started now, inherits this
    server = start_server(
        "--scenario",
        "hospitals-in",
        "--area",
        args.area,
        "--room-code",
        "BENCH20",
        env={"BETTERCARE_WORKSHOP_DEBUG": "1"},
        cwd=str(ROOT),
    )
    if args.split_cores:
        os.sched_setaffinity(0, set(cpus[1:]))  # Playwright's driver and Chromium inherit this
    try:
        with sync_playwright() as pw:
            browser = launch(pw)
            fac_ctx, _ = offline_context(browser, 1280, 800)
            fac = fac_ctx.new_page()
            fac.goto(server.facilitator_url)
            fac.locator(".bc-clock").wait_for(timeout=READY)
            n_seats = fac.locator(".bc-seats .bc-played-by").count() - 1  # the last is the centre's, not a party's
            people = []
            for i in range(n_seats):
                ctx, _ = offline_context(browser, 1024, 768)
                people.append(join(ctx, server.base, server.code, f"P{i + 1}", i))
            watchers = []
            for _ in range(max(args.browsers - 1 - n_seats, 0)):
                ctx, _ = offline_context(browser, 1280, 720)
                page = ctx.new_page()
                page.goto(server.base + "/projector")
                page.locator(".bc-clock").wait_for(timeout=READY)
                watchers.append(page)
            pages = [fac, *people, *watchers]
            print(f"server code: {ROOT}", flush=True)
            print(
                f"{len(pages)} browsers: facilitator, {len(people)} seats, {len(watchers)} projectors "
                f"({args.area}, {n_seats} parties)"
                + (
                    f"; server on CPU {cpus[0]}, browsers on CPU {','.join(map(str, cpus[1:]))}"
                    if args.split_cores
                    else ""
                )
                + (f"; {args.answer_gap:g} s between answers" if args.answer_gap else ""),
                flush=True,
            )

            latencies, server_side, renders, render_seconds = [], [], [], []
            for week in range(args.weeks):
                fac.locator(".bc-step").click()
                proposer = None
                deadline = time.time() + 60
                while proposer is None and time.time() < deadline:
                    proposer = next((p for p in people if p.locator(".bc-propose").count()), None)
                    time.sleep(0.05)
                proposer.locator(".bc-propose").click()
                answering = [p for p in people if p is not proposer]
                for p in answering:
                    p.get_by_text("Your turn: accept or reject the offer").wait_for()
                for p in pages:
                    p.evaluate(WATCH, f"Week {week + 1} ·")
                for p in answering[:-1]:
                    p.locator(".bc-reject").click()
                    time.sleep(args.answer_gap)
                t0 = time.time() * 1000
                answering[-1].locator(".bc-reject").click()
                deadline = time.time() + 30
                seen = [0.0] * len(pages)
                while time.time() < deadline and not all(seen):
                    seen = [p.evaluate("window.__bcSeen") for p in pages]
                    time.sleep(0.02)
                if not all(seen):
                    print(f"week {week}: {seen.count(0)} pages never showed week {week + 1}", flush=True)
                    continue
                lat = (max(seen) - t0) / 1000
                latencies.append(lat)
                ends = render_ends(server.output, t0 / 1000, max(seen) / 1000)
                done = (max(t for t, _, _ in ends) - t0 / 1000) if ends else float("nan")
                server_side.append(done)
                renders.append(len(ends))
                render_seconds.append([d for _, _, d in ends])
                print(
                    f"week {week} -> {week + 1}: shown on all {len(pages)} pages {lat:.2f} s after the last "
                    f"answer (first page {(min(seen) - t0) / 1000:.2f} s; server done {done:.2f} s, "
                    f"{len(ends)} renders of {len({v for _, v, _ in ends})} room versions, "
                    f"{sum(d for _, _, d in ends):.2f} s of rendering)",
                    flush=True,
                )
            browser.close()
    finally:
        server.stop()
    if not latencies:
        print("no week was timed")
        return
    med = statistics.median(latencies)
    print(
        f"\nmedian {med:.2f} s, max {max(latencies):.2f} s over {len(latencies)} weeks "
        f"(target: median <= 1.00 s: {'met' if med <= 1.0 else 'missed'}); the server had rendered "
        f"every page at a median {statistics.median(server_side):.2f} s"
    )
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "browsers": args.browsers,
                    "split_cores": args.split_cores,
                    "answer_gap_s": args.answer_gap,
                    "area": args.area,
                    "latencies_s": latencies,
                    "median_s": med,
                    "max_s": max(latencies),
                    "server_done_s": server_side,
                    "renders": renders,
                    "render_seconds": render_seconds,
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
