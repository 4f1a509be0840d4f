"""Generated blocks in docs/validation.md: the text between a script's begin and end markers is
replaced, or the block is appended when the markers are not there yet (shared by the scripts)."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "validation.md"


def write_block(name: str, text: str, doc: Path = DOC) -> None:
    """Put `text` between `<!-- NAME:begin -->` and `<!-- NAME:end -->` in `doc`."""
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    content = doc.read_text()
    block = f"{begin}\n{text}\n{end}"
    if begin in content:
        content = re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda _: block, content, flags=re.S)
    else:
        content = content.rstrip() + "\n\n" + block + "\n"
    doc.write_text(content)
