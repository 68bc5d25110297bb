"""The "report a problem" link on the back of every card of a deck with a ``report_url``.

It goes at the end of the note's Extra field, which every deckgen notetype shows on the back
(the notetypes' fields and templates never change, see anki/notetypes.py), and passes the
card sanitiser like every other text of a card.
"""

from __future__ import annotations

import html

from deckgen.render.render import sanitise

LINK_TEXT = "Report a problem with this card"
_START = '<div class="deckgen-report">'


def report_link(url: str) -> str:
    """The link's HTML, as the sanitiser leaves it."""
    return sanitise(
        f'{_START}<small><a href="{html.escape(url)}">{LINK_TEXT}</a></small></div>', set()
    )


def with_report_link(
    field_names: tuple[str, ...], fields: tuple[str, ...], link: str
) -> tuple[str, ...]:
    """``fields`` with ``link`` added at the end of the Extra field (an image occlusion
    note's Back Extra)."""
    extra = field_names.index("Extra" if "Extra" in field_names else "Back Extra")
    return tuple(field + link if index == extra else field for index, field in enumerate(fields))


def without_report_link(fields: tuple[str, ...]) -> tuple[str, ...]:
    """``fields`` with any report link removed: the link names the release a card shipped
    in, which is no change of the card."""
    return tuple(field.split(_START, 1)[0] for field in fields)
