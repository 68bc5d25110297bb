"""The deck description: what Anki shows on the deck's overview screen.

The author's ``description`` comes first. Once the deck has a release, a block follows that
tells the student which release they have (version and date), what changed in it (deck.yaml's
``changes``, written by ``deckgen release``) and how to update. The description belongs to the
deck, not to any note, so a new release updates no note and overwrites no student's edit.
Every text an author or a release wrote passes the card sanitiser; the rest is ours, escaped.
"""

from __future__ import annotations

import html
from pathlib import Path

from deckgen.anki.retire import RETIRED_TAG
from deckgen.diagnostics import Report
from deckgen.render.render import render_field
from deckgen.source.versions import DeckRelease
from deckgen.values import Text

HOW_TO_UPDATE = (
    "To update, import the package of a newer release with the default options: your review "
    "history stays, and so do your own edits to cards the release does not change."
)
WHAT_RETIRED_MEANS = (
    "An import never deletes cards: cards the instructor removed stay in your collection, "
    f"tagged <code>{RETIRED_TAG}</code>. Search <code>tag:{RETIRED_TAG}</code> in Browse to "
    "suspend or delete them."
)


def deck_description(
    description: Text | None,
    release: DeckRelease,
    *,
    has_retired: bool,
    folder: Path,
    report: Report,
) -> str:
    """The HTML of the deck description; problems in the author's text go to ``report``."""
    parts = [_markdown(description, folder, report)] if description is not None else []
    if release.version is not None:
        parts.append(_release_block(release, has_retired=has_retired, folder=folder, report=report))
    return "".join(parts)


def _release_block(release: DeckRelease, *, has_retired: bool, folder: Path, report: Report) -> str:
    day = f", {html.escape(release.released.isoformat())}" if release.released else ""
    lines = [f"<p><b>Release {html.escape(str(release.version))}</b>{day}</p>"]
    if release.changes is not None:
        lines.append(
            f'<div class="deckgen-changes">{_markdown(release.changes, folder, report)}</div>'
        )
    lines.append(f"<p>{HOW_TO_UPDATE}</p>")
    if has_retired:
        lines.append(f"<p>{WHAT_RETIRED_MEANS}</p>")
    return f'<div class="deckgen-release">{"".join(lines)}</div>'


def _markdown(text: Text, folder: Path, report: Report) -> str:
    return render_field(
        text.markdown, location=text.location, card_folder=folder, media=None, report=report
    ).html
