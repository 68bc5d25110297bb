"""The one way tests write a deck folder of their own (the sample project is
tests/fixtures/sample, copied by the ``project`` fixture)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
"""The repository: tests sit in folders by layer, so none counts parents from itself."""

DECK_YAML = "name: D\nid: d\n"


def write_deck_folder(
    root: Path,
    files: Mapping[str, str | bytes],
    *,
    folder: str = "d",
    deck_yaml: str = DECK_YAML,
) -> Path:
    """``root/cards/<folder>`` with ``deck_yaml`` as deck.yaml and ``files`` (card files,
    images), named relative to the deck folder; returns the deck folder."""
    deck = root / "cards" / folder
    deck.mkdir(parents=True, exist_ok=True)
    (deck / "deck.yaml").write_text(deck_yaml)
    for name, content in files.items():
        path = deck / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return deck
