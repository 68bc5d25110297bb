"""The body-map page's example, tables and gallery stay true to the code."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from conftest import run_deckgen
from deckgen.bodymap.atlas import LANDMARKS, REGIONS
from deckgen.bodymap.muscles import MUSCLES
from helpers import REPO

BODYMAPS = (REPO / "docs/bodymaps.md").read_text(encoding="utf-8")


def bodymap_example() -> str:
    after_marker = BODYMAPS.split("<!-- bodymap-example -->", 1)[1]
    match = re.search(r"```yaml\n(.*?)```", after_marker, re.DOTALL)
    assert match is not None
    return match.group(1)


def test_the_bodymap_picture_is_drawn_from_the_example_card(
    empty_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    deck = empty_project / "cards" / "example"
    deck.mkdir()
    (deck / "deck.yaml").write_text("name: Example\nid: example\n")
    (deck / "referral.yaml").write_text("cards:\n" + bodymap_example())
    result = run_deckgen("maps", "cards", "-o", "maps")
    assert result.exit_code == 0, result.output
    drawn = (empty_project / "maps/example/referral-trp1.svg").read_bytes()
    assert drawn == (REPO / "docs/bodymap-example.svg").read_bytes(), (
        "docs/bodymap-example.svg is stale: run deckgen maps on the example in docs/bodymaps.md"
    )


def test_every_region_and_landmark_is_documented() -> None:
    documented = set(re.findall(r"^\| `([a-z-]+)` \|", BODYMAPS, re.MULTILINE))
    assert set(REGIONS) | set(LANDMARKS) | set(MUSCLES) <= documented


def test_the_bodymap_gallery_is_current() -> None:
    sys.path.insert(0, str(REPO / "docs"))
    try:
        from gallery import pictures
    finally:
        sys.path.remove(str(REPO / "docs"))
    for name, data in pictures().items():
        assert (REPO / "docs" / name).read_bytes() == data, (
            f"docs/{name} is stale: run python docs/gallery.py"
        )
        assert f"({name})" in BODYMAPS
