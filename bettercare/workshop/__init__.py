"""The workshop room: a browser app where trainers run the partnership and participants take a seat.

- `room`: the room's state (settings, model, seats, tokens, turns, action log); every action
  goes through `Room.act`, which checks it. Plain Python, testable without a browser.
- `history`: what happened at the table people watch, step by step (for views and replays).
- `story`: the table in plain English, and each organisation's private brief.
- `charts`: the negotiation dance, the trust network and the pool, as PNG images.
- `replay`: two settings side by side for the debrief.
- `export`: the session as a CSV of offers and PNG charts.
- `app`: the Solara pages (facilitator, join, seat); `server` and `cli` start them.

Nothing here imports Solara except `app` and `server`, so the room can be used from tests and
notebooks without a web stack.
"""
