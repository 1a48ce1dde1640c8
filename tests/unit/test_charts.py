"""The dashboard's SVG charts: labels inside the drawing, a lone interval still visible."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sift.insights import Bucket
from sift.ui import charts


def _buckets(counts: list[int]) -> list[Bucket]:
    start = datetime(2026, 1, 1, 11)
    return [
        Bucket(start + timedelta(hours=i), n, 0, tuple(range(1, n + 1)))
        for i, n in enumerate(counts)
    ]


def test_every_x_label_fits_inside_the_chart() -> None:
    svg = str(charts.searches_chart(_buckets([3] * 24)))
    width = int(re.search(r'viewBox="0 0 (\d+) ', svg).group(1))
    for x, text in re.findall(r'<text x="([\d.]+)" y="[\d.]+" text-anchor="middle">([^<]+)<', svg):
        half = len(text) * 3.5  # 11-unit text is about 7 units per character
        assert float(x) + half <= width, text


def test_a_single_interval_is_drawn_as_solid_points_not_a_line() -> None:
    svg = str(charts.latency_chart(_buckets([0] * 23 + [5])))
    assert "<polyline" not in svg
    assert len(re.findall(r'<circle class="p(50|95)"', svg)) == 2
    two = str(charts.latency_chart(_buckets([0] * 22 + [5, 4])))
    assert two.count("<polyline") == 2
