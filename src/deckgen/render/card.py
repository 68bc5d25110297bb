"""A card checked and rendered: what the per-file stage hands to the per-deck stage, and what
the build cache keeps of it."""

from __future__ import annotations

from deckgen.cards.validate import CardSpec
from deckgen.diagnostics import Location, pickled_by_fields, value_class
from deckgen.values import CardKind, MediaFile, Text


@pickled_by_fields
@value_class
class AuthoredCard:
    """What ``deckgen lint``, ``stats`` and ``preview`` read of a card as its author wrote it,
    beyond its rendered fields: where each part is written, its cloze markup as written, the
    rules it silences. Small enough for the build cache to keep beside the rendered card
    (cache.py), so that those commands need not compile an unchanged card file again."""

    id: str
    kind: CardKind
    location: Location
    question: Location | None
    """Where the question is written (basic, reversed and type-in cards)."""
    answer: Location | None
    cloze: Text | None
    """The cloze text as written (cloze cards): lint counts its deletions."""
    sourced: bool
    """Whether the card has a source with any text (its own or its file's)."""
    has_bodymap: bool
    lint_ignore: tuple[Text, ...]
    """The rule names of the card's ``lint: {ignore: [...]}``, as written."""
    occlusion_groups: tuple[Location, ...] = ()
    """Occlusion cards: where each hidden label group (on a body map) or mask group (on an
    image) is written, in the order written."""
    hidden_keys: tuple[tuple[str, Location], ...] = ()
    """Occlusion cards on a body map: each ``hide`` group's stable key and place."""

    @classmethod
    def of(cls, spec: CardSpec) -> AuthoredCard:
        occlusion = spec.occlusion
        groups = () if occlusion is None else (occlusion.hide or occlusion.masks)
        return cls(
            id=spec.id,
            kind=spec.kind,
            location=spec.location,
            question=spec.question.location if spec.question is not None else None,
            answer=spec.answer.location if spec.answer is not None else None,
            cloze=spec.cloze,
            sourced=spec.source is not None and bool(spec.source.markdown.strip()),
            has_bodymap=spec.bodymap is not None,
            lint_ignore=spec.lint_ignore,
            occlusion_groups=tuple(group.location for group in groups),
            hidden_keys=(
                () if occlusion is None else tuple((g.key, g.location) for g in occlusion.hide)
            ),
        )


@pickled_by_fields
@value_class
class RenderedCard:
    """One card checked and rendered: everything the deck stage needs, nothing it computes."""

    id: str
    kind: CardKind
    fields: tuple[str, ...]
    """HTML, in the notetype's field order."""
    tags: tuple[str, ...]
    subdeck: str | None
    media: tuple[MediaFile, ...]
    """Every image the card shows once (its body maps included), in name order."""
    bodymaps: tuple[tuple[str, MediaFile], ...]
    """The card's drawn body maps, also in ``media``, with the field (as the author names it)
    each went into: one, or a question/answer pair for a map with ``reveal``."""
    card_ords: tuple[int, ...]
    """The cards Anki makes of the note, by ordinal: what the package holds."""
    location: Location
    spec: CardSpec | None = None
    """The card as written; None when the result came from the build cache, which keeps
    only what the package needs and ``authored``."""
    guid: str | None = None
    """The note's guid, when the per-file stage was given the deck's identity (the cache
    key holds it, so a cached guid is the current deck's)."""
    fingerprint: str | None = None
    """The lock's content fingerprint of the note, as ``guid``; None for an image occlusion
    card, whose fields the per-deck stage still changes. Taken per file, on every core and
    from the cache, instead of for every note of the deck on every build."""
    authored: AuthoredCard | None = None
    """What lint and stats read of the card as written: set when asked for
    (``FileCompiler(authored=True)``), from the cache too, and on every card compiled
    without a cache."""
