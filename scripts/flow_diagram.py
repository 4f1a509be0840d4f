"""Draw the flow model's stock-and-flow diagram to docs/img/flow-stock-and-flow.png."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

OUT = Path(__file__).resolve().parents[1] / "docs" / "img" / "flow-stock-and-flow.png"
STOCKS = {
    "acute": (1.0, 3.0, "Acute stay\n(not yet fit)"),
    "assess": (3.2, 3.0, "Assessment\n[both]"),
    "other": (3.2, 4.6, "Other delays\n(choice, housing)\n[NHS]"),
    "q_hc": (5.6, 5.2, "Queue: home care\n[social care]"),
    "q_re": (5.6, 3.8, "Queue: reablement\n[both]"),
    "q_ch": (5.6, 2.4, "Queue: care home\n[social care]"),
    "q_nhs": (5.6, 1.0, "Queue: NHS non-acute\n[NHS]"),
    "s_hc": (8.2, 5.2, "Home care"),
    "s_re": (8.2, 3.8, "Reablement"),
    "s_ch": (8.2, 2.4, "Care home"),
    "s_nhs": (8.2, 1.0, "NHS non-acute"),
    "recent": (1.0, 0.8, "Discharged home\n(30-day window)"),
}


def main() -> None:
    fig, ax = plt.subplots(figsize=(12, 6.5))
    ax.set_xlim(-0.8, 10)
    ax.set_ylim(-0.3, 6.3)
    ax.axis("off")
    for x, y, label in STOCKS.values():
        ax.add_patch(FancyBboxPatch((x - 0.8, y - 0.4), 1.6, 0.8, boxstyle="square,pad=0.02", fc="#e8eef7", ec="#234"))
        ax.text(x, y, label, ha="center", va="center", fontsize=8)

    def arrow(a, b, label="", color="#234", rad=0.0):
        (x0, y0, _), (x1, y1, _) = STOCKS[a], STOCKS[b]
        ax.add_patch(
            FancyArrowPatch(
                (x0 + 0.8 * (x1 > x0) - 0.8 * (x1 < x0), y0),
                (x1 - 0.8 * (x1 > x0) + 0.8 * (x1 < x0), y1),
                arrowstyle="-|>",
                mutation_scale=12,
                color=color,
                lw=1.4,
                connectionstyle=f"arc3,rad={rad}",
            )
        )
        if label:
            ax.text((x0 + x1) / 2, (y0 + y1) / 2 + 0.15, label, fontsize=7, ha="center", color=color)

    ax.annotate("", xy=(0.2, 3.0), xytext=(-0.7, 3.0), arrowprops=dict(arrowstyle="-|>", lw=1.4))
    ax.text(-0.75, 3.35, "emergency admissions\n= trend x winter x practice\n- schemes' effect", fontsize=7)
    arrow("acute", "assess", "supported share")
    arrow("acute", "recent", "home")
    arrow("recent", "acute", "readmissions", color="#a33", rad=-0.3)
    arrow("assess", "other")
    for q in ("q_hc", "q_re", "q_ch", "q_nhs"):
        arrow("assess", q)
        arrow(q, "s" + q[1:], "placements")
    arrow("other", "recent", rad=0.4)
    for s in ("s_hc", "s_re", "s_ch", "s_nhs"):
        x, y, _ = STOCKS[s]
        ax.annotate("", xy=(9.7, y), xytext=(9.0, y), arrowprops=dict(arrowstyle="-|>", lw=1.2))
    ax.text(9.05, 5.75, "leave\n(length of stay)", fontsize=7)
    ax.text(
        6.6,
        6.05,
        "capacity = counterfactual budget path + additional money\n"
        "(acquisition delay, supply ceiling); placement rate ~ vacancies^elasticity / wait",
        fontsize=7.5,
        color="#363",
    )
    ax.text(
        5.0,
        -0.2,
        "community demand joins the home-care and care-home queues (not delayed days)",
        fontsize=7,
        color="#555",
    )
    ax.text(3.2, 2.35, "hook: joint working\nspeeds assessment", fontsize=7, color="#a50", ha="center")
    ax.text(1.0, 3.75, "hook: trust's\npractice", fontsize=7, color="#a50", ha="center")
    ax.set_title("Flow model: stocks (boxes) and flows; [agency] of delayed days in the situation report", fontsize=10)
    fig.tight_layout()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(OUT, dpi=110)


if __name__ == "__main__":
    main()
