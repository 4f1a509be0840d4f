"""The workshop's Solara pages, one module per screen.

- `common`: what every page shares (waking on room changes, identity from cookies, the top bar,
  the error boundary, the CSS);
- `join`: the welcome and join pages (no room code on them);
- `seat`: a participant's seat (brief, turn, plan form);
- `facilitator`: the facilitator's screen (run, settings, seats, log and export);
- `debrief`: outcome cards and the side-by-side replay;
- `projector`: the key-less, read-only view for the big screen.
"""
