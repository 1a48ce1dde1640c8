"""`python -m benchmarks events --events-to typesense`: Sift's own floor, the paced requests
sent to an empty Typesense while the searches go to Sift, in a run short enough to smoke
(each phase 2 s, every wait of the harness time-boxed)."""

from __future__ import annotations

import shutil

import pytest
from benchmarks.events import __main__ as events
from benchmarks.runners.pypi_artifacts import TYPESENSE_VERSION


@pytest.mark.slow
def test_the_floor_sends_the_paced_requests_to_typesense_and_searches_sift() -> None:
    if shutil.which("wrk") is None:
        pytest.skip("wrk is not installed (apt-get install -y wrk)")
    if not (events.CACHE.parent / f"typesense-server-{TYPESENSE_VERSION}").exists():
        pytest.skip("the Typesense binary is not cached (python -m benchmarks events --engine "
                    "typesense fetches it)")  # fmt: skip
    report = events.run(300, 2, 200, 1, 1, events_to="typesense")
    # wrk raises on any answer but 2xx: Sift would answer GET /debug with a 404.
    assert report["events_to"] == "typesense" and report["paced_path"] == "/debug"
    assert report["engine"] == "sift" and report["all_stored"]
    [paced] = report["paced"]
    assert paced["requests"] > 0
    assert report["search_p50_ms_alone"][0] > 0 and report["search_p50_ms_with_events"][0] > 0


def test_the_floor_is_refused_for_typesense_searches() -> None:
    with pytest.raises(SystemExit):
        events.main(["--engine", "typesense", "--events-to", "typesense"])
