"""Debian's Chromium driven by Playwright (its own browser download is not reachable here), at a
laptop's 1440x900, with its console errors and page errors kept for the test to check."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Page, ViewportSize, sync_playwright

CHROMIUM = "/usr/bin/chromium"
VIEWPORT: ViewportSize = {"width": 1440, "height": 900}


@dataclass
class Browsing:
    page: Page
    shots: Path
    problems: list[str] = field(default_factory=list)

    def shot(self, name: str) -> Path:
        """A screenshot of what the page shows now (the viewport), kept as a test artifact."""
        path = self.shots / f"{name}.png"
        self.page.screenshot(path=str(path))
        return path


def artifacts(fallback: Path) -> Path:
    """Where screenshots go: $AUTOLOADER_TEST_ARTIFACTS/console (./dev test: dist/test), or
    the test's own temporary folder."""
    root = os.environ.get("AUTOLOADER_TEST_ARTIFACTS")
    folder = Path(root) / "console" if root else fallback
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@contextmanager
def browsing(shots: Path) -> Iterator[Browsing]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            context = browser.new_context(viewport=VIEWPORT, locale="en-GB")
            context.set_default_timeout(20_000)
            page = context.new_page()
            seen = Browsing(page, shots)
            # A CSP violation or a script error shows here (never on the page itself).
            page.on(
                "console",
                lambda m: seen.problems.append(f"console {m.type}: {m.text}")
                if m.type == "error"
                else None,
            )
            page.on("pageerror", lambda e: seen.problems.append(f"page error: {e}"))
            yield seen
        finally:
            browser.close()
