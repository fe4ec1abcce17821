"""Text for a terminal, shared by every report: display width (a Chinese
character takes two columns), user text made harmless (``visible``), and a
grid of columns padded to display width."""
from __future__ import annotations

import unicodedata


def display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def visible(text) -> str:
    """User text for a terminal: control and format characters (an escape
    sequence, a direction override) shown as \\uXXXX instead of acting."""
    return "".join(ch if ch.isprintable() or ch == " " else f"\\u{ord(ch):04x}" for ch in str(text))


def grid(headers: list[str], rows: list[list], right_from: int = 1) -> str:
    """Columns padded to display width; numbers (from ``right_from``) right-aligned."""
    cells = [[str(c) for c in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(display_width(r[i]) for r in cells) for i in range(len(headers))]

    def line(row):
        out = []
        for i, cell in enumerate(row):
            pad = " " * (widths[i] - display_width(cell))
            out.append(pad + cell if i >= right_from else cell + pad)
        return "  ".join(out).rstrip()

    rule = "  ".join("─" * w for w in widths)
    return "\n".join([line(cells[0]), rule] + [line(r) for r in cells[1:]])
