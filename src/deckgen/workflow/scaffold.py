"""``deckgen init``: a new deck folder that builds cleanly and shows every kind of card."""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from deckgen.cards.validate import DECK_FILE
from deckgen.diagnostics import DeckgenError, display_path
from deckgen.source.safe_files import (
    MissingFile,
    TooDeep,
    UnsafeFile,
    read_file,
    walk_tree,
    write_atomically,
)
from deckgen.source.yamlsource import MAX_FILE_BYTES

EXAMPLE_FILE = "example.yaml"

_DECK_YAML = """\
# Workflow: write cards in *.yaml files in this folder, then
#   deckgen check {cards}     find mistakes (file:line:col), nothing written
#   deckgen lint {cards}      warnings about cards that are hard to learn from
#   deckgen preview {cards}   every card as students will see it: preview/index.html
#   deckgen build {cards}     the package for Anki in decks/, and deck.lock here
# Commit deck.lock with the cards. Never change `id` below once students have the deck:
# every note's identity in their collections derives from it.
name: {name}
id: {deck_id}
description: What students will learn from this deck. *Markdown* allowed.
tags: [{tag}]
"""

_EXAMPLE_YAML = """\
# One card file; add as many as you like. Card ids are the cards' identity: never change
# an id once the deck is shipped.
deck: Examples                  # optional subdeck of every card in this file
tags: [examples]                # added to every card in this file
# the default source of every card in this file (a card's own 'source:' replaces it):
source: Your textbook, chapter 1
cards:
  - id: basic-example           # basic (the default): question on the front
    question: Which muscle abducts the thigh at the hip?
    answer: Gluteus medius.
    extra: Shown below the answer, in smaller type.

  - id: reversed-example        # two cards: question -> answer and answer -> question
    type: reversed
    question: Abduction of the thigh at the hip
    answer: Gluteus medius

  - id: typein-example          # the student types the answer
    type: typein
    question: Which nerve supplies gluteus medius?
    answer: Superior gluteal nerve

  - id: cloze-example           # one card per number: c1 and c2 give two cards
    cloze: >-
      Gluteus medius lies deep to {{c1::gluteus maximus}}
      and superficial to {{c2::gluteus minimus}}.

  - id: bodymap-example         # a referral chart drawn from data into the answer
    question: Where does gluteus medius TrP1 refer pain?
    answer: Along the posterior iliac crest and over the sacroiliac joint.
    bodymap:
      view: posterior
      essential: [posterior-iliac-crest, sacroiliac-joint]
      muscles: [gluteus-medius]   # drawn under the zones
      trigger_points:             # on the muscle: lateral to the PSIS, below the crest
        - {label: TrP1, at: {muscle: gluteus-medius, across: 0.2, along: 0.15}}
      landmarks: [iliac-crest, psis]

  - id: occlusion-example       # image occlusion: one card per hidden label of a drawn map
    type: occlusion
    header: Name the hidden landmark
    bodymap:
      view: posterior
      muscles: [gluteus-medius]
      landmarks: [iliac-crest, psis, greater-trochanter]
    hide:
      landmarks: all
"""


GITIGNORE = ".gitignore"
_IGNORED = (
    "# deckgen makes these again on every build: the build cache and the preview site",
    ".deckgen-cache/",
    "/preview/",
)
"""Lines a new content repository ignores (decks/ and each deck's releases/ are committed:
students download the packages, and verify compares with the last release)."""


@dataclass(frozen=True)
class Scaffold:
    """What ``init`` wrote."""

    folder: Path
    deck_id: str
    files: tuple[Path, ...]


def init_deck(folder: Path, *, repository: Path) -> Scaffold:
    """Create ``folder`` with a deck.yaml and an example card file, and make ``repository``'s
    .gitignore ignore what builds make; never overwrites, and never starts a deck inside a
    deck or around one (its deck.yaml would then be read as a card file of the other deck,
    and ``check`` would fail)."""
    deck_file = folder / DECK_FILE
    example = folder / EXAMPLE_FILE
    for path in (deck_file, example):
        if path.exists() or path.is_symlink():
            raise DeckgenError(
                f"{display_path(path)} already exists: init writes only into a new deck folder"
            )
    _refuse_nested_decks(folder)
    slug = re.sub(r"[^a-z0-9]+", "-", folder.resolve().name.lower()).strip("-") or "deck"
    # The random part keeps two decks started from the same folder name apart for ever.
    deck_id = f"{slug}-{secrets.token_hex(4)}"
    name = slug.replace("-", " ").capitalize()
    cards = display_path(folder.parent)
    write_atomically(
        deck_file,
        _DECK_YAML.format(
            cards=cards, name=name, deck_id=deck_id, tag=slug.replace("-", "_")
        ).encode("utf-8"),
        within=folder,
    )
    write_atomically(example, _EXAMPLE_YAML.encode("utf-8"), within=folder)
    written: tuple[Path, ...] = (deck_file, example)
    if _ignore_build_outputs(repository / GITIGNORE):
        written += (repository / GITIGNORE,)
    return Scaffold(folder=folder, deck_id=deck_id, files=written)


def _ignore_build_outputs(path: Path) -> bool:
    """Add the lines of ``_IGNORED`` that ``path`` lacks (keeping every line it has); True
    when it was written."""
    try:
        text = read_file(path, within=path.parent, max_bytes=MAX_FILE_BYTES).decode("utf-8")
    except MissingFile:
        text = ""
    except (UnsafeFile, UnicodeDecodeError) as exc:
        reason = exc if isinstance(exc, UnsafeFile) else "is not UTF-8 text"
        raise DeckgenError(
            f"{display_path(path)} {reason}: add the lines {', '.join(_IGNORED[1:])} to it yourself"
        ) from None
    # "preview/" ignores what "/preview/" does here: compare the patterns without slashes.
    present = {line.strip().strip("/") for line in text.splitlines()}
    missing = [line for line in _IGNORED if line.strip("/") not in present]
    if not [line for line in missing if not line.startswith("#")]:
        return False
    if text and not text.endswith("\n"):
        text += "\n"
    write_atomically(path, (text + "\n".join(missing) + "\n").encode("utf-8"), within=path.parent)
    return True


def _refuse_nested_decks(folder: Path) -> None:
    absolute = Path(os.path.abspath(folder))  # by name: the folder may not exist yet
    for parent in absolute.parents:
        if (parent / DECK_FILE).is_file():
            raise DeckgenError(
                f"{display_path(folder)} is inside the deck folder {display_path(parent)} "
                f"(it has a {DECK_FILE}): a deck cannot hold another; start the new deck next "
                f"to it, e.g. deckgen init {display_path(parent.parent / 'new-deck')}"
            )
    if folder.is_dir():
        try:
            inner = next((path for path in walk_tree(folder) if path.name == DECK_FILE), None)
        except TooDeep as exc:
            raise DeckgenError(f"{display_path(exc.folder)} {exc}") from None
        if inner is not None:
            raise DeckgenError(
                f"{display_path(folder)} already holds a deck ({display_path(inner)}): a deck "
                f"cannot hold another; start the new deck in a folder of its own, e.g. "
                f"deckgen init {display_path(inner.parent.parent / 'new-deck')}"
            )
