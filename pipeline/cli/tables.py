"""Plain-text tables for the terminal: columns two spaces apart, each as wide as its widest cell."""

from __future__ import annotations

from collections.abc import Sequence

LEFT, RIGHT = "<", ">"


def text_table(header: Sequence[object] | None, rows: Sequence[Sequence[object]], align: str = "") -> str:
    """``header`` (None for none) and ``rows`` as aligned lines; cells are printed with ``str``.

    ``align`` holds one character per column, ``<`` (left) or ``>`` (right); columns it does not reach are left
    aligned. Trailing spaces are dropped, so an empty last cell leaves no padding behind.
    """
    lines = [[str(cell) for cell in row] for row in ([header] if header is not None else []) + list(rows)]
    if not lines:
        return ""
    columns = max(len(line) for line in lines)
    if bad := set(align) - {LEFT, RIGHT}:
        raise ValueError(f"align takes only {LEFT!r} and {RIGHT!r}, not {''.join(sorted(bad))!r}")
    sides = align.ljust(columns, LEFT)
    widths = [max(len(line[i]) for line in lines if i < len(line)) for i in range(columns)]
    return "\n".join(
        "  ".join(cell.rjust(width) if side == RIGHT else cell.ljust(width)
                  for cell, width, side in zip(line, widths, sides)).rstrip()
        for line in lines
    )
