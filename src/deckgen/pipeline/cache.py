"""The build cache: each card file's checked and rendered cards, and each package's inputs.

It lives in ``<cards>/.deckgen-cache/`` (git-ignored; deleting it only costs one slow build).
- ``files/<key>``: the per-file stage's result for one card file, keyed by a hash of the
  file's bytes and path, the deck's tags, and deckgen itself (its source code and the
  libraries that shape its output). The images the file showed are recorded with the
  hash of their bytes and re-checked on every use.
- ``authored/<key>``: under the same key, what ``deckgen lint`` and ``stats`` read of each of
  the file's cards as written (``AuthoredCard``), which the package does not need. Kept apart
  so that a build, which writes it with the file's entry, never spends time reading it;
  ``lint`` and ``stats`` read both (``load_authored``), and compile a file whose authored
  entry is missing or odd (every value is type-checked, as in the file's entry).
- ``packages/<hash of the package path>``: a hash of everything a package is made from and
  of the package bytes written, so an unchanged deck is neither re-rendered nor re-compared.
- ``project`` and ``reviews``: what a build with nothing to do, and the last ``stats`` and
  text ``lint``, printed, with the state of the project they found (freshness.py).

The folder is inside the cards folder, which a hostile checkout controls, so its entries are
untrusted: each is JSON (never pickle) behind a header with the format and an HMAC-SHA256 of
the body under a key that only this user's deckgen knows (``cache_key``), and any entry that
is truncated, corrupt, stale, or written anywhere else (planted, even with a correct
checksum) is ignored and rebuilt, never trusted.

A card file's entries are made and written where it compiled (``file_entries`` and
``write_entries``, in a worker process), so that the main process never holds them; a build
that fails or is stopped removes every card-file entry that appeared since it started
(``BuildCache.forget_entries_since``), so it leaves the cache as it found it.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from deckgen.anki.identity import DeckIdentity
from deckgen.diagnostics import Diagnostic, Location, Severity, display_path
from deckgen.pipeline.compiled_file import CompiledFile, ImageInput, image_bytes
from deckgen.pipeline.freshness import (
    CACHE_DIR as CACHE_DIR,
)
from deckgen.pipeline.freshness import (
    CACHE_FORMAT,
    MAX_PACKAGE_BYTES,
    REVIEWS_ENTRY,
    cache_key,
    entry_header,
    environment_digest,
    read_entry,
)
from deckgen.pipeline.freshness import (
    KEY_BYTES as KEY_BYTES,
)
from deckgen.render.card import AuthoredCard, RenderedCard
from deckgen.source.safe_files import (
    UnsafeFile,
    file_digest,
    first_link,
    list_files,
    overwrite_file,
    read_file,
    remove_file,
)
from deckgen.source.yamlsource import MAX_FILE_BYTES
from deckgen.values import CardKind, MediaFile, Text

AUTHORED_DIR = "authored"
"""Entries of what lint and stats read of each card as written (``RenderedCard.authored``),
under the same key as the file's entry in ``files/``."""
_ENTRY_FOLDERS = ("files", AUTHORED_DIR)
EntriesOnDisk = dict[str, frozenset[str]]
"""The names of the card-file entries in each of the cache's entry folders."""

_T = TypeVar("_T")


class BuildCache:
    """One cards folder's cache; every method degrades to "not cached" on any problem."""

    def __init__(
        self, folder: Path, *, within: Path, key: bytes | None, refused: str | None = None
    ) -> None:
        self.folder = folder
        self.within = within
        """The cards folder: the cache never reads or writes outside it, whatever links a
        hostile checkout puts in its place."""
        self.key = key
        """The user's key (``cache_key``), which signs every entry and checks what is read;
        None turns the cache off. Workers sign the entries they make with ``cache_key()``
        too, the same key, inherited or read where this process read it."""
        self.refused = refused
        """Why the cache folder is not used (a warning for the build to show), or None."""
        self._used: set[str] = set()

    @classmethod
    def for_cards(cls, cards_dir: Path) -> BuildCache:
        """The cache of ``cards_dir``; off, with the reason in ``refused``, when the cache
        folder is a link or holds anything but folders and regular files. Such a folder came
        with the checkout (deckgen never makes links): a link in it could point a write or the
        prune anywhere, so it is not touched at all."""
        folder = cards_dir / CACHE_DIR
        # deckgen makes folders one level deep (files/, packages/); deeper ones are not its own.
        link = first_link(folder, within=cards_dir, max_depth=1)
        if link is None:
            return cls(folder, within=cards_dir, key=cache_key())
        what = "is" if link == folder else f"holds {display_path(link)}, which is"
        refused = (
            f"build cache not used: it {what} a link, a special file or a folder deckgen never "
            f"makes there; delete the folder {display_path(folder)} (it is rebuilt)"
        )
        return cls(folder, within=cards_dir, key=None, refused=refused)

    # --- per card file ---------------------------------------------------------------------

    def entries_on_disk(self) -> EntriesOnDisk:
        """The names (keys) of the card-file entries on disk, by folder: ``files`` holds the
        entries ``load_file`` reads (sound or not: it tells), ``authored`` the others."""
        if self.key is None:
            return {}
        found: EntriesOnDisk = {}
        for folder in _ENTRY_FOLDERS:
            try:
                found[folder] = frozenset(list_files(self.folder / folder, within=self.within))
            except OSError:  # no entries yet, or a link swapped in since the cache was opened
                found[folder] = frozenset()
        return found

    def load_file(self, key: str, path: Path) -> CompiledFile | None:
        """The cached result for ``key`` if its entry is sound and its images unchanged."""
        self._used.add(key)
        document = self._read(self.folder / "files" / key)
        if document is None:
            return None
        try:
            if document["key"] != key:
                return None
            return _file_from_json(document, path)
        except (KeyError, TypeError, ValueError, AttributeError, IndexError):
            return None

    def mark_used(self, keys: Iterable[str]) -> None:
        """Keep the entries under ``keys`` from ``prune``: card files this run compiled."""
        self._used.update(keys)

    def forget_entries_since(self, before: EntriesOnDisk) -> None:
        """Remove every card-file entry not on disk ``before`` (``entries_on_disk``): those a
        failed or stopped build's workers wrote, results it never received included."""
        self._remove_entries(lambda folder, name: name in before.get(folder, ()))

    # --- per card file, as written (lint and stats) ----------------------------------------

    def load_authored(self, key: str, compiled: CompiledFile) -> CompiledFile | None:
        """``compiled`` (the file entry under ``key``) with each card's ``authored`` from its
        own entry; None when that entry is missing, unsound or does not match the cards."""
        document = self._read(self.folder / AUTHORED_DIR / key)
        if document is None:
            return None
        try:
            if document["key"] != key:
                return None
            authored = _authored_from_json(document["cards"], compiled.path)
        except (KeyError, TypeError, ValueError, AttributeError, IndexError):
            return None
        if [card.id for card in authored] != [card.id for card in compiled.cards]:
            return None
        cards = tuple(
            dataclasses.replace(card, authored=written)
            for card, written in zip(compiled.cards, authored, strict=True)
        )
        return dataclasses.replace(compiled, cards=cards)

    def prune(self) -> None:
        """Delete card-file entries this run did not use: old versions of edited files."""
        self._remove_entries(lambda _, name: name in self._used)

    def _remove_entries(self, keep: Callable[[str, str], bool]) -> None:
        """Delete each card-file entry whose folder and name ``keep`` refuses. Only regular
        files in the cache's own folders go, never through a link (safe_files)."""
        if self.key is None:
            return  # the cache is off: its folder, whatever it is, is not touched
        for folder in _ENTRY_FOLDERS:
            try:
                names = list_files(self.folder / folder, within=self.within)
            except OSError:  # missing, or a link swapped in since the cache was opened
                continue
            for name in names:
                if not keep(folder, name):
                    with contextlib.suppress(OSError):  # another build's, or not ours to delete
                        remove_file(self.folder / folder / name, within=self.within)

    # --- per package -----------------------------------------------------------------------

    def inputs_on_disk(self, package_path: Path) -> str | None:
        """The inputs the package on disk was last written or verified for; None when unknown
        (no record, or the file is not the one recorded)."""
        document = self._read(self._package_record(package_path))
        if document is None:
            return None
        written = _package_digest(package_path)
        if written is None:
            return None
        inputs = document.get("inputs")
        return inputs if document.get("package") == written and isinstance(inputs, str) else None

    def record_package(self, package_path: Path, inputs: str) -> None:
        """Remember that the package now on disk is current for ``inputs``."""
        written = _package_digest(package_path)
        if written is None:
            return
        record = {"format": CACHE_FORMAT, "inputs": inputs, "package": written}
        self._write(self._package_record(package_path), record)

    def _package_record(self, package_path: Path) -> Path:
        name = hashlib.sha256(str(package_path.resolve()).encode()).hexdigest()
        return self.folder / "packages" / name

    # --- the whole project ---------------------------------------------------------------

    def remember_quiet_output(self, state: str, outputs: dict[str, list[tuple[str, bool]]]) -> None:
        """Record what a build in each mode prints when it finds the project in ``state``,
        a state in which it has nothing to write."""
        self._write(self.folder / "project", {"format": CACHE_FORMAT, "state": state} | outputs)

    def remember_review(
        self, state: str, command: str, lines: list[tuple[str, bool]], warnings: int
    ) -> None:
        """Record what ``command`` (stats, lint) printed for the project in ``state``, beside
        the other command's record when that was made in the same state."""
        document = self._read(self.folder / REVIEWS_ENTRY)
        if document is None or document.get("state") != state:
            document = {"format": CACHE_FORMAT, "state": state}
        document[command] = {"lines": lines, "warnings": warnings}
        self._write(self.folder / REVIEWS_ENTRY, document)

    # --- entries on disk -------------------------------------------------------------------

    def _read(self, entry: Path) -> dict[str, Any] | None:
        if self.key is None:
            return None
        return read_entry(entry, within=self.within, key=self.key)

    def _write(self, entry: Path, document: dict[str, Any]) -> None:
        if self.key is not None:
            self._overwrite(entry, _signed(document, self.key))

    def _overwrite(self, entry: Path, data: bytes) -> None:
        if self.key is None:
            return
        # Written in place, not renamed: the header's checksum already exposes a torn entry
        # (a killed build, two builds at once), which is then ignored, and a build leaves no
        # temporary file behind and renames nothing but its outputs. Never through a link,
        # and never into a FIFO or device planted as an entry (safe_files).
        with contextlib.suppress(OSError):  # a cache not written only makes builds slower
            overwrite_file(entry, data, within=self.within)


def file_key(
    path: Path,
    *,
    deck_folder: Path,
    deck_tags: tuple[str, ...],
    identity: DeckIdentity | None = None,
) -> str | None:
    """The cache key of ``path``'s current bytes in this deck (and under the deck's
    ``identity``, which the cached guids and fingerprints are of); None when it cannot be
    read."""
    try:  # the same bounded, link-safe read the file stage makes
        data = read_file(path, within=deck_folder, max_bytes=MAX_FILE_BYTES)
    except UnsafeFile:
        return None
    return key_of_bytes(path, data, deck_folder=deck_folder, deck_tags=deck_tags, identity=identity)


def key_of_bytes(
    path: Path,
    data: bytes,
    *,
    deck_folder: Path,
    deck_tags: tuple[str, ...],
    identity: DeckIdentity | None,
) -> str:
    """``file_key`` of ``data``, the bytes just read of ``path``."""
    where = [str(path), str(path.resolve()), str(deck_folder.resolve())]
    deck = [None] if identity is None else [identity.deck_id, identity.report_template]
    context = json.dumps([environment_digest(), *where, *deck, *deck_tags])
    return hashlib.sha256(context.encode() + b"\0" + data).hexdigest()


@dataclass(frozen=True)
class FileEntries:
    """A compiled card file's cache entries, signed and ready to write: made by
    ``file_entries`` and written by ``write_entries`` where the file compiled (a worker
    process, on every core)."""

    file: bytes
    authored: bytes | None
    """None when a card lacks ``authored`` or a position lies in another file."""


def file_entries(
    key: str,
    compiled: CompiledFile,
    authored: Sequence[AuthoredCard | None] | None = None,
) -> FileEntries | None:
    """The entries of ``compiled`` under ``key``, the key of the very bytes it was compiled
    from (``key_of_bytes``), with ``authored``, its cards as written (default: those on its
    cards); None when a position lies in another file, or this user has no key
    (``cache_key``, which ``BuildCache.for_cards`` signs with too). A worker forked by the
    build holds the key already, in memory; one started afresh reads it where the build did:
    nothing secret is sent to it."""
    signing = cache_key()
    if signing is None:
        return None
    located_elsewhere = not all(
        _located_in(compiled.path, d.location) for d in compiled.diagnostics
    ) or not all(_located_in(compiled.path, card.location) for card in compiled.cards)
    if located_elsewhere:
        return None  # entries hold positions in their own file only
    document = {"format": CACHE_FORMAT, "key": key} | _file_to_json(compiled)
    if authored is None:
        authored = [card.authored for card in compiled.cards]
    return FileEntries(
        _signed(document, signing), _authored_entry(key, compiled, authored, signing)
    )


def write_entries(cache_folder: Path, within: Path, key: str, entries: FileEntries) -> None:
    """Write one card file's ``entries`` under ``key`` into the cache folder ``cache_folder``
    (``BuildCache.folder``) of the cards folder ``within``. A cache not written only makes
    builds slower: an entry that cannot be written (a link or FIFO planted in its place, a
    full disk) is left out."""
    written = [("files", entries.file), (AUTHORED_DIR, entries.authored)]
    for folder, data in written:
        if data is not None:
            with contextlib.suppress(OSError):
                overwrite_file(cache_folder / folder / key, data, within=within)


def _authored_entry(
    key: str, compiled: CompiledFile, authored: Sequence[AuthoredCard | None], signing: bytes
) -> bytes | None:
    """Kept apart from the file entry: a build never reads it, so it costs an edit
    nothing."""
    if len(authored) != len(compiled.cards) or any(card is None for card in authored):
        return None
    cards = _authored_to_json([card for card in authored if card is not None], compiled.path)
    if cards is None:
        return None
    return _signed({"format": CACHE_FORMAT, "key": key, "cards": cards}, signing)


def _located_in(path: Path, location: Location) -> bool:
    """Whether ``location`` lies in the file ``path``. Asked of every position an entry holds,
    whose path is nearly always the very object the file was compiled with: pathlib's
    equality, which compares the parts, was a sixth of the time of making the entries."""
    return location.path is path or location.path == path


def _signed(document: dict[str, Any], signing: bytes) -> bytes:
    """An entry's bytes: the header with the body's signature, then the body."""
    body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
    return entry_header(body, signing) + b"\n" + body


def _package_digest(package_path: Path) -> str | None:
    """SHA-256 of the package on disk; None when it is missing, too large or a link out."""
    try:
        return file_digest(package_path, within=package_path.parent, max_bytes=MAX_PACKAGE_BYTES)
    except UnsafeFile:
        return None


def _file_to_json(compiled: CompiledFile) -> dict[str, Any]:
    return {
        "images": [
            [str(image.path), image.digest, image.shipped_name] for image in compiled.images
        ],
        # A list per card, not an object: an edit reads every unchanged file's entry, and
        # JSON without the repeated keys parses faster.
        "cards": [
            [
                card.id,
                card.kind.value,
                list(card.fields),
                list(card.tags),
                card.subdeck,
                [file.name for file in card.media],
                [
                    [field, picture.name, base64.b64encode(picture.data).decode("ascii")]
                    for field, picture in card.bodymaps
                ],
                list(card.card_ords),
                card.location.line,
                card.location.column,
                card.guid,
                card.fingerprint,
            ]
            for card in compiled.cards
        ],
        "diagnostics": [
            [d.severity.value, d.location.line, d.location.column, d.message]
            for d in compiled.diagnostics
        ],
    }


def _file_from_json(document: dict[str, Any], path: Path) -> CompiledFile | None:
    images = []
    shipped: dict[str, MediaFile] = {}
    for image_path, digest, shipped_name in document["images"]:
        image = ImageInput(Path(image_path), _optional_str(digest), _optional_str(shipped_name))
        data = image_bytes(image.path)
        current = None if data is None else hashlib.sha256(data).hexdigest()
        if current != image.digest:
            return None  # the image changed since: the file's result may differ
        if image.shipped_name is not None and data is not None:
            shipped[image.shipped_name] = MediaFile(image.shipped_name, data)
        images.append(image)
    cards = []
    kinds = {kind.value: kind for kind in CardKind}
    # The cards of a file share a few tag lists (the deck's and file's tags, and their own):
    # one copy of each, not one per card (a fifth of a cached card's memory).
    tag_lists: dict[tuple[str, ...], tuple[str, ...]] = {}
    for (
        card_id,
        kind,
        fields,
        tags,
        subdeck,
        names,
        drawn,
        ords,
        line,
        column,
        guid,
        fingerprint,
    ) in document["cards"]:
        # An edit reads every unchanged card of the deck from here: the types are checked
        # inline, not through a helper call per value (a third of this function's time).
        if not (
            type(card_id) is str
            and type(line) is int
            and type(column) is int
            and (subdeck is None or type(subdeck) is str)
            and (guid is None or type(guid) is str)
            and (fingerprint is None or type(fingerprint) is str)
        ):
            raise TypeError("a cached card's id, place or identity is of the wrong type")
        bodymaps: tuple[tuple[str, MediaFile], ...] = ()
        media = shipped
        if drawn:
            bodymaps = tuple(
                (_str(field), MediaFile(_str(name), base64.b64decode(data, validate=True)))
                for field, name, data in drawn
            )
            media = shipped | {picture.name: picture for _, picture in bodymaps}
        card_tags = _list_of(tags, str)
        cards.append(
            RenderedCard(
                id=card_id,
                kind=kinds[kind],
                fields=_list_of(fields, str),
                tags=tag_lists.setdefault(card_tags, card_tags),
                subdeck=subdeck,
                media=tuple(media[name] for name in names) if names else (),
                bodymaps=bodymaps,
                card_ords=_list_of(ords, int),
                location=Location(path, line, column),
                guid=guid,
                fingerprint=fingerprint,
            )
        )
    diagnostics = tuple(
        Diagnostic(Location(path, _int(line), _int(column)), Severity(severity), _str(message))
        for severity, line, column, message in document["diagnostics"]
    )
    return CompiledFile(path, tuple(cards), diagnostics, tuple(images))


def _authored_to_json(cards: list[AuthoredCard], path: Path) -> list[list[Any]] | None:
    """The cards' authored facts, positions as [line, column] in ``path``; None when any
    lies in another file (entries hold positions in their own file only)."""

    def place(location: Location) -> list[int]:
        if not _located_in(path, location):
            raise ValueError("located elsewhere")
        return [location.line, location.column]

    def text(value: Text) -> list[Any]:
        return [value.markdown, *place(value.location)]

    try:
        return [
            [
                card.id,
                card.kind.value,
                place(card.location),
                None if card.question is None else place(card.question),
                None if card.answer is None else place(card.answer),
                None if card.cloze is None else text(card.cloze),
                card.sourced,
                card.has_bodymap,
                [text(name) for name in card.lint_ignore],
                [place(group) for group in card.occlusion_groups],
                [[key, *place(group)] for key, group in card.hidden_keys],
            ]
            for card in cards
        ]
    except ValueError:
        return None


def _authored_from_json(cards: object, path: Path) -> list[AuthoredCard]:
    """Raises TypeError, ValueError or KeyError on anything but what ``_authored_to_json``
    writes: the entry is then not cached."""

    def place(value: object) -> Location:
        line, column = _list_of(value, int)
        return Location(path, line, column)

    def optional_place(value: object) -> Location | None:
        return None if value is None else place(value)

    def text(value: object) -> Text:
        if type(value) is not list:
            raise TypeError("expected a text with its place")
        markdown, line, column = value
        return Text(_str(markdown), Location(path, _int(line), _int(column)))

    def keyed(value: object) -> tuple[str, Location]:
        if type(value) is not list:
            raise TypeError("expected a key with its place")
        key, line, column = value
        return _str(key), Location(path, _int(line), _int(column))

    if type(cards) is not list:
        raise TypeError("expected a list of cards")
    kinds = {kind.value: kind for kind in CardKind}
    authored = []
    for card in cards:
        if type(card) is not list:
            raise TypeError("expected a card")
        card_id, kind, where, question, answer, cloze, sourced, bodymap, ignore, groups, keys = card
        authored.append(
            AuthoredCard(
                id=_str(card_id),
                kind=kinds[kind],
                location=place(where),
                question=optional_place(question),
                answer=optional_place(answer),
                cloze=None if cloze is None else text(cloze),
                sourced=_bool(sourced),
                has_bodymap=_bool(bodymap),
                lint_ignore=tuple(text(name) for name in _list_of(ignore, list)),
                occlusion_groups=tuple(place(group) for group in _list_of(groups, list)),
                hidden_keys=tuple(keyed(group) for group in _list_of(keys, list)),
            )
        )
    return authored


def _bool(value: object) -> bool:
    if type(value) is not bool:
        raise TypeError(f"expected true or false, got {type(value).__name__}")
    return value


def _str(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected text, got {type(value).__name__}")
    return value


def _list_of(values: object, kind: type[_T]) -> tuple[_T, ...]:
    """``values`` as a tuple when it is a JSON list of ``kind`` only (exactly: no bool as int)."""
    if type(values) is not list or not set(map(type, values)) <= {kind}:
        raise TypeError(f"expected a list of {kind.__name__}")
    return tuple(values)


def _optional_str(value: object) -> str | None:
    return None if value is None else _str(value)


def _int(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"expected a whole number, got {type(value).__name__}")
    return value
