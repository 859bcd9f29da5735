"""Charts as inline SVG, drawn on the server: no script, no library, no network."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

BAR_HEIGHT = 22
GAP = 6
LABEL_WIDTH = 250
LABEL_CHARS = 34
WIDTH = 560


def bars(rows: Sequence[tuple[str, float | None, str]], title: str) -> Markup:
    """Horizontal bars: (label, value or None when hidden, text shown at the bar's end)."""
    top = max((v for _l, v, _t in rows if v is not None), default=0) or 1
    height = len(rows) * (BAR_HEIGHT + GAP) + GAP
    span = WIDTH - LABEL_WIDTH - 60
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for i, (label, value, text) in enumerate(rows):
        y = GAP + i * (BAR_HEIGHT + GAP)
        w = 0 if value is None else max(1, round(span * value / top))
        label = str(label)
        short = label if len(label) <= LABEL_CHARS else label[:LABEL_CHARS - 1] + "…"
        parts.append(
            f'<text x="{LABEL_WIDTH - 6}" y="{y + 15}" text-anchor="end" class="lbl">'
            f"<title>{escape(label)}</title>{escape(short)}</text>"
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="{w}" height="{BAR_HEIGHT}" class="bar"/>'
            f'<text x="{LABEL_WIDTH + w + 6}" y="{y + 15}" class="val">{escape(text)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every value above is escaped


def columns(rows: Sequence[tuple[str, float | None, str]], title: str) -> Markup:
    """Vertical columns over time: (label, value or None when hidden, text above)."""
    n = max(len(rows), 1)
    height, base, top_pad = 200, 170, 20
    step = WIDTH / n
    top = max((v for _l, v, _t in rows if v is not None), default=0) or 1
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
        f'<line x1="0" y1="{base}" x2="{WIDTH}" y2="{base}" class="axis"/>',
    ]
    for i, (label, value, text) in enumerate(rows):
        x = i * step + step * 0.15
        w = step * 0.7
        h = 0 if value is None else max(1, round((base - top_pad) * value / top))
        parts.append(
            f'<rect x="{x:.1f}" y="{base - h}" width="{w:.1f}" height="{h}" class="bar"/>'
            f'<text x="{x + w / 2:.1f}" y="{base - h - 4}" text-anchor="middle" class="val">'
            f"{escape(text)}</text>"
            f'<text x="{x + w / 2:.1f}" y="{base + 16}" text-anchor="middle" class="lbl">'
            f"{escape(str(label))}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every value above is escaped
