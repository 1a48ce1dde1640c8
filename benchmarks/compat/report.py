"""Read pytest's JUnit XML and count outcomes per API area."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

from benchmarks.compat.areas import area_of

OUTCOMES = ("passed", "failed", "error", "skipped")


@dataclass(frozen=True)
class Outcome:
    module: str
    name: str
    area: str
    outcome: str
    message: str

    @property
    def test_id(self) -> str:
        return f"tests/{self.module}.py::{self.name}"


def read_junit(path: Path) -> list[Outcome]:
    outcomes = []
    for case in ET.parse(path).getroot().iter("testcase"):
        module = case.get("classname", "").rsplit(".", 1)[-1]
        name = case.get("name", "")
        outcome, message = "passed", ""
        for tag in ("failure", "error", "skipped"):
            child = case.find(tag)
            if child is not None:
                outcome = "failed" if tag == "failure" else tag
                message = (child.get("message") or child.text or "").strip()
                break
        first_line = message.splitlines()[0] if message else ""
        outcomes.append(Outcome(module, name, area_of(module, name), outcome, first_line))
    return outcomes


def table(outcomes: list[Outcome]) -> str:
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for item in outcomes:
        counts[item.area][item.outcome] += 1
    total: Counter[str] = Counter(item.outcome for item in outcomes)
    header = f"{'area':<14}" + "".join(f"{o:>9}" for o in OUTCOMES)
    lines = [header, "-" * len(header)]
    for area in sorted(counts):
        lines.append(f"{area:<14}" + "".join(f"{counts[area][o]:>9}" for o in OUTCOMES))
    lines.append("-" * len(header))
    lines.append(f"{'total':<14}" + "".join(f"{total[o]:>9}" for o in OUTCOMES))
    return "\n".join(lines)


def failures(outcomes: list[Outcome], areas: set[str] | None = None) -> str:
    rows = [
        f"[{o.area}] {o.test_id} ({o.outcome}): {o.message[:160]}"
        for o in outcomes
        if o.outcome in ("failed", "error") and (areas is None or o.area in areas)
    ]
    return "\n".join(rows)
