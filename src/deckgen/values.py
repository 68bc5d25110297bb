"""The values handed from stage to stage that need nothing but a location: a card's kind, a
field's Markdown as written, an image as shipped.

Every layer may import this module; it imports nothing of deckgen's but diagnostics. Values
that hold a later stage's types live in the lowest layer that defines those types: a checked
card (``cards.validate.CardSpec``), a rendered card (``render.card.RenderedCard``), a note
and a compiled deck (``anki.compiled.CompiledDeck``), a compiled card file
(``pipeline.compiled_file.CompiledFile``).
"""

from __future__ import annotations

import enum
import os
from pathlib import Path

from deckgen.diagnostics import Location, pickled_by_fields, value_class


class CardKind(enum.Enum):
    """Which notetype a card becomes."""

    BASIC = "basic"
    REVERSED = "reversed"
    TYPEIN = "typein"
    CLOZE = "cloze"
    OCCLUSION = "occlusion"


@pickled_by_fields
@value_class
class Text:
    """A field's Markdown as the author wrote it, and where."""

    markdown: str
    location: Location


@pickled_by_fields
@value_class
class MediaFile:
    """An image as it is shipped in a package."""

    name: str
    """The file name in the package and in Anki's media folder: a hash of the bytes."""
    data: bytes


def folder_name(folder: Path) -> str:
    """The name of the folder ``folder`` stands for: ``.`` is the current folder's name, never
    an empty one (packages and release records are named after it)."""
    return Path(os.path.abspath(folder)).name


def usable_cores() -> int:
    """The cores this process may run on (its affinity), not the host's."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1
