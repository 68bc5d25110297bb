"""What a worker process sends back to the main one: every value of a compiled card file
survives the trip whole, in the cheap form (the class and its field values in order)."""

from __future__ import annotations

import dataclasses
import enum
import itertools
import pickle
import types
import typing
from pathlib import Path

import pytest

from deckgen.anki.identity import DeckIdentity
from deckgen.cards.validate import CardSpec
from deckgen.pipeline.compiled_file import CompiledFile
from deckgen.pipeline.filestage import compile_file

SHIPPED_DECK = Path(__file__).parents[2] / "cards" / "gluteus-medius"


def sent_classes() -> list[type]:
    """Every dataclass a ``CompiledFile`` holds, found from the type hints: a class added to
    it later is tested too. ``RenderedCard.spec`` is left out: the parsed card is only sent
    back by a build without a cache, and the pickle of ``CardSpec`` is its own."""
    found: list[type] = []
    waiting: list[object] = [CompiledFile]
    while waiting:
        hint = waiting.pop()
        if dataclasses.is_dataclass(hint) and isinstance(hint, type):
            if hint not in found:
                found.append(hint)
                hints = typing.get_type_hints(hint)
                waiting.extend(hints[f.name] for f in dataclasses.fields(hint) if f.name != "spec")
        else:
            waiting.extend(typing.get_args(hint))
    return found


def distinct_value(hint: object, counter: itertools.count[int]) -> object:
    """A value of type ``hint`` unlike any other made, and never a field's default: a field
    the pickling dropped or swapped with another would not come back equal."""
    if hint is CardSpec:  # sent with its own pickle (see sent_classes): a real one is tested
        return None
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return distinct_value(
            next(a for a in typing.get_args(hint) if a is not type(None)), counter
        )
    if origin is tuple:
        args = typing.get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            return (distinct_value(args[0], counter), distinct_value(args[0], counter))
        return tuple(distinct_value(arg, counter) for arg in args)
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        hints = typing.get_type_hints(hint)
        return hint(*(distinct_value(hints[f.name], counter) for f in dataclasses.fields(hint)))
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        members = list(hint)
        return members[next(counter) % len(members)]
    number = next(counter) + 1
    made: dict[object, object] = {
        str: f"text {number}",
        int: number,
        bool: number % 2 == 1,
        bytes: f"bytes {number}".encode(),
        Path: Path(f"/deck/file{number}.yaml"),
    }
    if hint not in made:
        raise AssertionError(f"no test value for {hint}: add one")
    return made[hint]


@pytest.mark.parametrize("cls", sent_classes(), ids=lambda cls: cls.__name__)
def test_every_sent_class_is_pickled_as_its_field_values_and_comes_back_whole(cls: type) -> None:
    counter = itertools.count()
    for _ in range(3):  # the booleans and the enums take each value
        value = distinct_value(cls, counter)
        fields = tuple(getattr(value, f.name) for f in dataclasses.fields(cls))
        assert value.__reduce_ex__(pickle.HIGHEST_PROTOCOL) == (cls, fields)
        back = pickle.loads(pickle.dumps(value, pickle.HIGHEST_PROTOCOL))
        assert type(back) is cls
        assert tuple(getattr(back, f.name) for f in dataclasses.fields(cls)) == fields


@pytest.mark.parametrize("keep_specs", [False, True])
def test_the_shipped_decks_files_come_back_equal_from_a_worker(keep_specs: bool) -> None:
    compiled = [
        compile_file(
            path,
            deck_folder=SHIPPED_DECK,
            deck_tags=("t",),
            identity=DeckIdentity("gluteus-medius"),
            keep_specs=keep_specs,
        )
        for path in sorted(SHIPPED_DECK.glob("*.yaml"))
        if path.name != "deck.yaml"
    ]
    cards = [card for file in compiled for card in file.cards]
    assert len(cards) > 20
    assert any(card.bodymaps for card in cards) and any(card.media for card in cards)
    assert all((card.spec is not None) == keep_specs for card in cards)
    assert pickle.loads(pickle.dumps(compiled)) == compiled
