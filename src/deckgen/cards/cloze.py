"""Anki's cloze markup, the one pattern every stage reads it with: ``{{c<number>::text}}`` or
``{{c<number>::text::hint}}``, and which numbers Anki makes a card for."""

from __future__ import annotations

import re

CLOZE_OPENING = re.compile(r"\{\{c(\d+)::")
"""Where a deletion starts, with its number as written."""
SINGLE_BRACE_OPENING = re.compile(r"(?<!\{)\{c\d+::")
"""A deletion's start written with one brace, which Anki reads as text."""
CLOZE = re.compile(r"\{\{c(\d+)::(.*?)(?:::(.*?))?\}\}", re.DOTALL)
"""A whole deletion, ending at the first ``}}``: its number as written, the text it hides (up
to the first ``::``) and its hint (None without one)."""
MAX_CLOZE_NUMBER = 500
"""Anki adds cards for c1 to c500 only (higher numbers all land on card 500, c0 on none)."""


def card_number(digits: str) -> int | None:
    """The cloze number that ``digits`` (as in ``{{c<digits>::``) stand for, when Anki makes
    a card for it (c1 to c500, leading zeros allowed); None for any other."""
    significant = digits.lstrip("0")
    # Compare digits before converting: int() refuses thousands of digits.
    if not 0 < len(significant) <= 3 or int(significant) > MAX_CLOZE_NUMBER:
        return None
    return int(significant)
