"""The per-file stage's result for one card file, which the build cache stores and restores."""

from __future__ import annotations

import hashlib
from pathlib import Path

from deckgen.diagnostics import Diagnostic, pickled_by_fields, value_class
from deckgen.render.card import RenderedCard
from deckgen.render.media import MAX_IMAGE_BYTES
from deckgen.source.safe_files import UnsafeFile, read_file


@pickled_by_fields
@value_class
class ImageInput:
    """An image file a card file pointed at: part of what the file's result depends on."""

    path: Path
    """Resolved, inside the deck folder."""
    digest: str | None
    """SHA-256 of its bytes when it was read; None when it was not a readable file."""
    shipped_name: str | None
    """Its media name when it was accepted; None when it was refused (and reported)."""


@pickled_by_fields
@value_class
class CompiledFile:
    """The per-file stage's result for one card file."""

    path: Path
    cards: tuple[RenderedCard, ...]
    diagnostics: tuple[Diagnostic, ...]
    """Every problem found in the file, each located in it."""
    images: tuple[ImageInput, ...]


def image_bytes(path: Path) -> bytes | None:
    """The bytes of an image a card file used (``path`` is resolved, inside its deck), or None
    when it is no longer a readable regular file of an image's size: never a FIFO, a device or
    a link out, which would hang or read without end."""
    try:
        return read_file(path, within=path.parent, max_bytes=MAX_IMAGE_BYTES)
    except UnsafeFile:
        return None


def file_digest(path: Path) -> str | None:
    """SHA-256 of an image's bytes, or None when it cannot be read (see ``image_bytes``)."""
    data = image_bytes(path)
    return None if data is None else hashlib.sha256(data).hexdigest()
