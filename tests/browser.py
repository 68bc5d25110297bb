"""Headless Chromium (Debian's package) as the rasteriser: the engine Anki's card views use."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
)


def chromium() -> str:
    """The browser's path; skips the test where none is installed, unless CI demands one."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if os.environ.get("DECKGEN_REQUIRE_BROWSER"):
        pytest.fail("chromium is required (DECKGEN_REQUIRE_BROWSER is set) but not installed")
    pytest.skip("chromium is not installed (apt-get install chromium)")


def screenshot(page: str, *, width: int, height: int, folder: Path) -> Image.Image:
    """Render an HTML page (files it names are looked up in ``folder``) and return the pixels."""
    browser = chromium()
    (folder / "page.html").write_text(page, encoding="utf-8")
    target = folder / "screenshot.png"
    subprocess.run(
        [
            browser,
            *_FLAGS,
            f"--user-data-dir={folder / 'profile'}",
            f"--window-size={width},{height}",
            f"--screenshot={target}",
            (folder / "page.html").as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    with Image.open(target) as image:
        return image.convert("RGB")


def run_page(page: str, *, folder: Path) -> str:
    """Load an HTML page, let its scripts run, and return the DOM they leave behind."""
    browser = chromium()
    (folder / "run.html").write_text(page, encoding="utf-8")
    result = subprocess.run(
        [
            browser,
            *_FLAGS,
            f"--user-data-dir={folder / 'profile'}",
            "--virtual-time-budget=5000",
            "--dump-dom",
            (folder / "run.html").as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
        text=True,
    )
    return result.stdout
