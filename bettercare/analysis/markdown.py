"""Markdown tables for the records the analyses write (docs/validation.md, a calibration's report)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def table(frame: pd.DataFrame, formats: dict[str, str] | None = None) -> str:
    """`frame` as a Markdown table: floats by `formats[column]` (default 3 significant digits),
    booleans as yes / **no**, so that a failed check stands out."""
    formats = formats or {}
    head = "| " + " | ".join(map(str, frame.columns)) + " |\n|" + "---|" * len(frame.columns) + "\n"
    lines = []
    for row in frame.itertuples(index=False):
        cells = []
        for col, v in zip(frame.columns, row, strict=True):
            if isinstance(v, bool | np.bool_):
                cells.append("yes" if v else "**no**")
            elif isinstance(v, float | np.floating):
                cells.append(format(v, formats.get(col, ".3g")))
            else:
                cells.append(str(v))
        lines.append("| " + " | ".join(cells) + " |")
    return head + "\n".join(lines)
