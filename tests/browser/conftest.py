"""A real `sift serve` (demo data, master key) and headless Chromium driven by Playwright.

Skips, saying why, when Chromium or the playwright package is missing; never
downloads a browser (`playwright install` is not used: Debian's Chromium is).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

CHROMIUM = os.environ.get("SIFT_CHROMIUM", "/usr/bin/chromium")
AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
MASTER_KEY = "browser-master-key-0123456789"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="package")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    pytest.importorskip("playwright", reason="the playwright package is not installed")
    data = tmp_path_factory.mktemp("browser")
    port = _free_port()
    sift = shutil.which("sift") or "sift"
    # A sync source whose database is not there: the sources page shows it reconnecting.
    (data / "sift.toml").write_text(
        '[[sources]]\nname = "shop"\nurl = "mysql://sift:secret@127.0.0.1:9/shop"\n'
        '[[sources.tables]]\ntable = "products"\nindex = "products"\n'
    )
    proc = subprocess.Popen(
        [sift, "serve", "--data-dir", str(data), "--port", str(port), "--demo",
         "--master-key", MASTER_KEY, "--config-file", str(data / "sift.toml"),
         "--query-suggestions-interval", "1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ},
    )  # fmt: skip
    # localhost; test_cross_origin.py reaches the same server as 127.0.0.1 and a LAN name.
    base = f"http://localhost:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                headers = {"Authorization": f"Bearer {MASTER_KEY}"}
                stats = httpx.get(f"{base}/indexes/cities/stats", headers=headers, timeout=2)
                if stats.status_code == 200 and stats.json()["numberOfDocuments"] > 30000:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"sift serve did not load the demo (exit {proc.poll()})")
            time.sleep(0.3)
        yield base
    finally:
        proc.terminate()
        try:  # a server still merging a large index's segments can take a while to stop
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# Package scope, not session: Playwright's sync API keeps an event loop running in the
# main thread while it is open, which pytest-asyncio's tests after this package (the unit
# tests' async ones) would otherwise find running.
@pytest.fixture(scope="package")
def browser(server: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--headless=new"]
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    tab.errors = errors
    yield tab
    context.close()


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.x A/AA (incl. 2.2) and best-practice violations on the page."""
    if not AXE.exists():
        pytest.skip(f"axe-core missing at {AXE} (scripts/browser-deps installs it)")
    # Injected through the DevTools protocol: the page's CSP (rightly) blocks inline scripts.
    page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate(
        """() => axe.run(document, {runOnly: {type: 'tag', values:
            ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']}})"""
    )
    return [
        {"id": v["id"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:3]}
        for v in result["violations"]
    ]
