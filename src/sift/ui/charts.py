"""Server-rendered SVG charts for the dashboard: no chart library, no script.

Styling comes from classes in site.css (the page's CSP forbids inline styles);
each chart has a text title and an equivalent data table for screen readers.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

from sift.insights import Bucket

# Drawn in a 960-unit-wide box that the page stretches to its full width: at the
# dashboard's usual widths 11-unit text stays about 11-13 px. PAD_R keeps the last
# x label (centred on its bucket) inside the box.
W, H, PAD_L, PAD_R, PAD_B, PAD_T = 960, 220, 70, 30, 24, 10
PLOT_W = W - PAD_L - PAD_R


def _nice_max(value: float) -> float:
    top = max(1.0, float(value))
    step = 10 ** (len(str(int(top))) - 1)
    return float(((int(top) // step) + 1) * step)


def _frame(
    label: str, ident: str, top: float, unit: str, body: list[str], labels: list[str]
) -> Markup:
    plot_h = H - PAD_B - PAD_T
    parts = [
        f'<svg class="chart" viewBox="0 0 {W} {H}" role="img" aria-labelledby="{ident}-t">',
        f'<title id="{ident}-t">{escape(label)}</title>',
    ]
    for i in range(5):
        y = PAD_T + plot_h * i / 4
        value = top * (4 - i) / 4
        parts.append(
            f'<line class="grid" x1="{PAD_L}" x2="{W - PAD_R}" y1="{y:.1f}" y2="{y:.1f}"/>'
        )
        parts.append(
            f'<text x="{PAD_L - 6}" y="{y + 4:.1f}" text-anchor="end">{value:,.0f}{unit}</text>'
        )
    parts.extend(body)
    parts.extend(labels)
    y = H - PAD_B
    parts.append(f'<line class="axis" x1="{PAD_L}" x2="{W - PAD_R}" y1="{y}" y2="{y}"/></svg>')
    return Markup("".join(parts))


def _x_labels(buckets: Sequence[Bucket], step: float) -> list[str]:
    out = []
    every = max(1, len(buckets) // 6)
    for i, b in enumerate(buckets):
        if i % every == 0:
            fmt = "%d %b" if len(buckets) > 72 or b.start.hour == 0 else "%H:%M"
            x = PAD_L + step * (i + 0.5)
            out.append(
                f'<text x="{x:.1f}" y="{H - 6}" text-anchor="middle">{b.start.strftime(fmt)}</text>'
            )
    return out


def searches_chart(buckets: Sequence[Bucket]) -> Markup:
    """Bars: searches per bucket, the zero-result part in red."""
    top = _nice_max(max((b.count for b in buckets), default=0))
    plot_h = H - PAD_B - PAD_T
    step = PLOT_W / max(1, len(buckets))
    body = []
    for i, b in enumerate(buckets):
        x = PAD_L + step * i + step * 0.1
        width = max(1.0, step * 0.8)
        height = plot_h * b.count / top
        zero_h = plot_h * b.zero_results / top
        base = H - PAD_B
        if b.count:
            body.append(
                f'<rect class="bar" x="{x:.1f}" y="{base - height:.1f}" width="{width:.1f}" '
                f'height="{height:.1f}"/>'
            )
        if b.zero_results:
            body.append(
                f'<rect class="zero" x="{x:.1f}" y="{base - zero_h:.1f}" width="{width:.1f}" '
                f'height="{zero_h:.1f}"/>'
            )
    total = sum(b.count for b in buckets)
    label = f"Searches over time: {total:,} searches in {len(buckets)} intervals"
    return _frame(label, "searches", top, "", body, _x_labels(buckets, step))


def latency_chart(buckets: Sequence[Bucket]) -> Markup:
    """Lines: median and 95th percentile processing time per bucket."""
    views = [b.as_dict() for b in buckets]
    top = _nice_max(max((v["p95"] for v in views), default=0))
    plot_h = H - PAD_B - PAD_T
    step = PLOT_W / max(1, len(buckets))
    body = []
    for name in ("p50", "p95"):
        points = [
            f"{PAD_L + step * (i + 0.5):.1f},{H - PAD_B - plot_h * v[name] / top:.1f}"
            for i, v in enumerate(views)
            if v["count"]
        ]
        if len(points) > 1:
            body.append(f'<polyline class="{name}" points="{" ".join(points)}"/>')
        # solid dots too, so a single interval (no line to draw) still shows as a point
        body.extend(
            f'<circle class="{name}" cx="{p.split(",")[0]}" cy="{p.split(",")[1]}" r="3.5"/>'
            for p in points
        )
    return _frame(
        "Search latency: median and 95th percentile in milliseconds",
        "latency",
        top,
        " ms",
        body,
        _x_labels(buckets, step),
    )
