"""The per-file stage: one card file's bytes in, its checked and rendered cards out.

Loading, checking and rendering a card file needs nothing from the deck's other files, so a
file's result depends only on its bytes, the images it shows, the deck's tags and deckgen
itself. That makes the file the unit the build cache keys (cache.py) and the unit spread over
the machine's cores. Identity, the lock and the package come after, per deck (deckstage.py).
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import itertools
import signal
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from deckgen.anki.cardrender import card_ords
from deckgen.anki.identity import DeckIdentity
from deckgen.anki.notetypes import NOTETYPES
from deckgen.cards.validate import CardSpec, check_card_file
from deckgen.diagnostics import DeckgenError, Diagnostic, Report, Severity
from deckgen.pipeline.cache import (
    BuildCache,
    EntriesOnDisk,
    file_entries,
    file_key,
    key_of_bytes,
    write_entries,
)
from deckgen.pipeline.compiled_file import CompiledFile, ImageInput, file_digest
from deckgen.render.card import AuthoredCard, RenderedCard
from deckgen.render.media import MediaResolver, media_name
from deckgen.render.render import (
    RenderedField,
    cloze_problem,
    is_blank,
    plain_field_html,
    render_field,
)
from deckgen.source.safe_files import UnsafeFile, read_file
from deckgen.source.yamlsource import MAX_FILE_BYTES
from deckgen.values import CardKind, MediaFile, Text, usable_cores

if TYPE_CHECKING:
    from deckgen.bodymap.spec import BodymapSpec

PARALLEL_MIN_BYTES = 256 * 1024
"""Below this much YAML to compile, starting worker processes costs more than it saves."""
MAX_FILES_PER_HAND_OVER = 8
"""The most card files a worker is given at once: few enough that the workers still end
together (each takes about a quarter of its share at a time, at most this many)."""
OVERLAP_MIN_BYTES = 64 * 1024
"""Below this much YAML to compile while the cache is read, one worker costs more than it
saves (forking it and sending its cards back: about 20 ms)."""


def compile_file(
    path: Path,
    *,
    deck_folder: Path,
    deck_tags: tuple[str, ...],
    identity: DeckIdentity | None = None,
    keep_specs: bool = True,
) -> CompiledFile:
    """Check and render one card file of the deck in ``deck_folder``; with the deck's
    ``identity``, each card's guid and fingerprint too; without ``keep_specs``, the cards
    without their parsed form (``RenderedCard.spec``), as the cache restores them. Pure:
    nothing is written."""
    compiled, _ = _compile(path, deck_folder, deck_tags, identity, keep_specs, keep_authored=True)
    return compiled


def _compile(
    path: Path,
    deck_folder: Path,
    deck_tags: tuple[str, ...],
    identity: DeckIdentity | None,
    keep_specs: bool,
    *,
    keep_authored: bool,
    data: bytes | None = None,
) -> tuple[CompiledFile, list[AuthoredCard]]:
    """``compile_file``, and each card as written, on the cards only with ``keep_authored``;
    ``data``: the file's bytes when already read."""
    report = Report()
    resolver = MediaResolver(deck_folder, report)
    fields = _FieldRenderer(resolver, report, identity, keep_specs, keep_authored)
    specs = check_card_file(path, deck_folder, deck_tags, report, data=data)
    cards = tuple(_render_card(spec, fields) for spec in specs)
    images = tuple(
        ImageInput(
            image_path,
            hashlib.sha256(media.data).hexdigest() if media else file_digest(image_path),
            media.name if media else None,
        )
        for image_path, media in sorted(resolver.files_looked_up.items())
    )
    return CompiledFile(path, cards, tuple(report.diagnostics), images), fields.authored


def _compile_job(
    job: tuple[Path, Path, tuple[str, ...], DeckIdentity | None, bool, bool, _CacheFolder],
) -> tuple[CompiledFile, str | None]:
    """One card file compiled; with a cache folder, also the cache key of the bytes compiled,
    under which the file's cache entries are made and written there, on the worker's core, so
    the main process never holds them (``FileCompiler.save`` keeps them, ``discard`` removes
    them). Without ``keep_authored`` the cards go back without ``authored``, as the cache
    restores them."""
    path, deck_folder, deck_tags, identity, keep_specs, keep_authored, cache_folder = job
    # Read once, here: the key is of the very bytes compiled, so the entries are never those
    # of another version of the file (one edited while it compiled), and the file is not
    # read again to make sure.
    try:
        data: bytes | None = read_file(path, within=deck_folder, max_bytes=MAX_FILE_BYTES)
    except UnsafeFile:
        data = None  # compiling reads it again, and reports why it cannot be read
    # Without ``keep_authored`` each card as written goes only into the authored entry:
    # sending it back was two fifths of the objects the main process unpickles, one after
    # the other.
    compiled, authored = _compile(
        path, deck_folder, deck_tags, identity, keep_specs, keep_authored=keep_authored, data=data
    )
    if cache_folder is None or data is None:
        return compiled, None
    key = key_of_bytes(path, data, deck_folder=deck_folder, deck_tags=deck_tags, identity=identity)
    # A build with any error keeps nothing, not even in the cache: no entries for nothing.
    if not any(d.severity is Severity.ERROR for d in compiled.diagnostics):
        entries = file_entries(key, compiled, authored)
        if entries is not None:
            write_entries(*cache_folder, key, entries)
    return compiled, key


def _worker_started() -> None:
    """Let SIGTERM end a worker at once, as by default. The command line makes SIGTERM raise
    SystemExit (``cli.main``), so that a stopped command removes its temporary files, and a
    forked worker inherits that; but a pool whose worker died stops the others with SIGTERM,
    and a worker blocked sending its cards back down the pipe nobody reads any more would
    report the SystemExit down the same pipe and never end (the build hung)."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


_CacheFolder = tuple[Path, Path] | None
"""Where a worker writes the cache entries of the card files it compiles: the cache folder
and the cards folder it lies in (``BuildCache.folder`` and ``within``); None: the cache is
off."""


@dataclass
class FileCompiler:
    """Runs the per-file stage over a deck's card files: from the cache where it can, on
    every core for the rest when there is enough of it."""

    cache: BuildCache | None = None
    on_file_done: Callable[[], None] | None = None
    """Called once per card file finished, from the cache or compiled (a progress bar)."""
    authored: bool = False
    """Whether the cards must carry ``authored`` (lint and stats read it), also those from
    the cache: a file whose authored entry is missing is compiled again. Without a cache they
    always do."""
    _compiled: list[str] = field(default_factory=list)
    """The cache key of each file compiled, under which its entries were written."""
    _found: EntriesOnDisk | None = None
    """The cache's card-file entries before this build compiled anything: the ones it may
    read, and all that ``discard`` keeps."""

    def __call__(
        self,
        deck_folder: Path,
        paths: list[Path],
        deck_tags: tuple[str, ...],
        report: Report,
        identity: DeckIdentity | None = None,
    ) -> list[RenderedCard]:
        """The cards of every card file of the deck in ``deck_folder``, in file order."""
        results: dict[Path, CompiledFile] = {}
        keys: dict[Path, str] = {}
        cache_folder: _CacheFolder = None
        if self.cache is not None and self.cache.key is not None:  # none when it is off
            cache_folder = (self.cache.folder, self.cache.within)
        if self._found is None:
            self._found = self.cache.entries_on_disk() if self.cache is not None else {}
        # What earlier builds stored; with nothing (a first build), no file is looked up: each
        # is keyed where it compiles, from the bytes read there (``_compile_job``).
        stored = self._found.get("files", frozenset())
        if cache_folder is not None and stored:
            for path in paths:
                key = file_key(
                    path, deck_folder=deck_folder, deck_tags=deck_tags, identity=identity
                )
                if key is not None:
                    keys[path] = key
        cached = [path for path in paths if keys.get(path) in stored]
        # With a cache the parsed cards are dropped where they are made, as the cache drops
        # them: lint, stats and preview read ``authored`` instead, and sending them back from
        # the workers was a fifth of a cold build's memory and a tenth of its time. So is
        # ``authored`` unless asked for: the worker puts it in the cache's authored entry.
        without_cache = self.cache is None
        deck: _Deck = (
            deck_folder,
            deck_tags,
            identity,
            without_cache,
            without_cache or self.authored,
            cache_folder,
        )
        with contextlib.ExitStack() as workers:
            # The edited files compile in a worker while this process reads the unchanged
            # files' entries: on a one-card edit of a large bank the two take about as long.
            compiling = _start_compiling(
                [path for path in paths if keys.get(path) not in stored],
                deck,
                workers,
                alongside=bool(cached),
            )
            for path in cached:
                assert self.cache is not None
                entry = self.cache.load_file(keys[path], path)
                if entry is not None and self.authored:
                    entry = self.cache.load_authored(keys[path], entry)
                if entry is not None:
                    results[path] = entry
                    self._file_done()
            unsound = [path for path in cached if path not in results]  # rebuilt here
            rebuilt = _start_compiling(unsound, deck, workers)
            for compiled, key in itertools.chain(compiling, rebuilt):
                results[compiled.path] = compiled
                self._file_done()
                if key is not None:
                    self._compiled.append(key)
        cards: list[RenderedCard] = []
        for path in paths:
            report.diagnostics.extend(results[path].diagnostics)
            cards.extend(results[path].cards)
        return cards

    def _file_done(self) -> None:
        if self.on_file_done is not None:
            self.on_file_done()

    def save(self) -> None:
        """Keep what this build compiled, which the workers wrote to the cache, and prune the
        entries it did not use; called only when the build succeeds."""
        if self.cache is not None:
            self.cache.mark_used(self._compiled)
            self.cache.prune()
        self._compiled.clear()

    def discard(self) -> None:
        """Remove every card-file entry written since this build started (its workers'),
        once they have stopped: a build with any error, or stopped, leaves the cache as it
        found it."""
        if self.cache is not None and self._found is not None:
            self.cache.forget_entries_since(self._found)
        self._compiled.clear()


_Deck = tuple[Path, tuple[str, ...], "DeckIdentity | None", bool, bool, _CacheFolder]
"""What every file of a deck is compiled with: its folder, tags and identity, whether the
cards keep their parsed form and ``authored``, and where its entries go (``_CacheFolder``)."""


def _start_compiling(
    paths: list[Path],
    deck: _Deck,
    workers: contextlib.ExitStack,
    *,
    alongside: bool = False,
) -> Iterator[tuple[CompiledFile, str | None]]:
    """The compiled ``paths``, in order, each with its cache key when the cache is on
    (``_compile_job``). With enough YAML, worker processes start on them at once (closed with
    ``workers``); ``alongside``: this process has other work meanwhile, so even one file is
    worth a worker. Otherwise they compile here, as they are taken."""
    jobs = [(path, *deck) for path in paths]
    cores = usable_cores()
    size = _total_size(paths) if cores > 1 and paths else 0
    if paths and (size >= PARALLEL_MIN_BYTES or (alongside and size >= OVERLAP_MIN_BYTES)):
        # Imported here: multiprocessing is a fair part of the start-up of a small build.
        from concurrent.futures import ProcessPoolExecutor

        processes = min(cores, len(paths))
        pool = ProcessPoolExecutor(max_workers=processes, initializer=_worker_started)
        # On an error meanwhile (a cache entry that cannot be read, Ctrl-C), the files not yet
        # started are dropped rather than compiled for nothing before the error shows.
        workers.callback(pool.shutdown, wait=True, cancel_futures=True)
        # map() submits every job now and keeps the files' order, so the output does not
        # depend on scheduling. A few files per hand-over: each is a round trip through this
        # process's threads, which a file of plain notes waited on for a fifth of its time.
        chunk = max(1, min(MAX_FILES_PER_HAND_OVER, len(jobs) // (4 * processes)))
        return _unless_a_worker_is_lost(pool.map(_compile_job, jobs, chunksize=chunk))
    return map(_compile_job, jobs)


def _unless_a_worker_is_lost(
    results: Iterator[tuple[CompiledFile, str | None]],
) -> Iterator[tuple[CompiledFile, str | None]]:
    """``results``; a worker killed meanwhile (most often by the system, short of memory) is
    a clear error, not an internal one."""
    from concurrent.futures.process import BrokenProcessPool  # imported with the pool

    try:
        yield from results
    except BrokenProcessPool as exc:
        raise DeckgenError(
            "a worker process compiling the card files was stopped (killed, perhaps by the "
            "system for want of memory); nothing was written: run the build again, with more "
            "memory free"
        ) from exc


def _total_size(paths: list[Path]) -> int:
    total = 0
    for path in paths:
        with contextlib.suppress(OSError):  # the file stage reports it when it reads the file
            total += path.stat().st_size
    return total


@dataclass
class _FieldRenderer:
    """Renders the fields of one file's cards into its ``report``; a text shared by many
    cards (a file's ``source``, which every card inherits) is rendered once and its
    diagnostics repeated."""

    resolver: MediaResolver
    report: Report
    identity: DeckIdentity | None = None
    """The deck's, when known: each card's guid and fingerprint are taken with its fields."""
    keep_specs: bool = True
    """Whether each card keeps its parsed form (``RenderedCard.spec``)."""
    keep_authored: bool = True
    """Whether each card keeps itself as written (``RenderedCard.authored``)."""
    authored: list[AuthoredCard] = field(default_factory=list)
    """Every card of the file as written, in order, whether kept on the cards or not."""
    _done: dict[Text, tuple[RenderedField, tuple[Diagnostic, ...]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.resolver.report = self.report  # an image's problems are its text's

    def html(self, text: Text | None, media: dict[str, MediaFile]) -> str:
        """The HTML of ``text`` ("" for none), its images added to ``media`` by name."""
        if text is None:
            return ""
        # Most fields are a plain sentence: no images, no diagnostics, nothing to remember.
        plain = plain_field_html(text.markdown)
        if plain is not None:
            return plain
        done = self._done.get(text)
        if done is None:
            diagnostics = self.report.diagnostics
            before = len(diagnostics)
            rendered = render_field(
                text.markdown,
                location=text.location,
                card_folder=text.location.path.parent,
                media=self.resolver,
                report=self.report,
            )
            self._done[text] = (rendered, tuple(diagnostics[before:]))
        else:
            rendered, repeated = done
            self.report.diagnostics.extend(repeated)
        for image in rendered.media:
            media[image.name] = image
        return rendered.html


def _render_card(card: CardSpec, renderer: _FieldRenderer) -> RenderedCard:
    if card.kind is CardKind.OCCLUSION:
        return _render_occlusion_card(card, renderer)
    media: dict[str, MediaFile] = {}
    report = renderer.report
    diagnostics_before = len(report.diagnostics)
    field_html = renderer.html
    by_author_name = {"extra": field_html(card.extra, media)}
    if card.kind is CardKind.CLOZE:
        by_author_name["cloze"] = field_html(card.cloze, media)
    else:
        by_author_name["question"] = field_html(card.question, media)
        by_author_name["answer"] = field_html(card.answer, media)
    pictures = []
    for placement in card.bodymap.placements() if card.bodymap is not None else ():
        images = []
        for picture, alt in bodymap_media(placement.spec):
            media[picture.name] = picture
            pictures.append((placement.field, picture))
            images.append(f'<img src="{picture.name}" alt="{html.escape(alt)}">')
        # The question's map of a reveal pair is hidden on the answer side, which shows the
        # same map with its trigger points (notetypes.CSS).
        hidden = " deckgen-reveal-question" if placement.revealed_later else ""
        title = (
            f'<div class="deckgen-bodymap-title">{html.escape(placement.spec.title)}</div>'
            if placement.spec.title
            else ""
        )
        by_author_name[placement.field] += (
            f'<div class="deckgen-bodymap{hidden}">{title}{"".join(images)}</div>'
        )
    # A dropped image would read as a blank side: the check waits for a card without errors.
    added = report.diagnostics[diagnostics_before:]
    if all(diagnostic.severity is not Severity.ERROR for diagnostic in added):
        _check_cards_made(card, by_author_name, report)
    source = field_html(card.source, media)
    if card.kind is CardKind.CLOZE:
        rendered: tuple[str, ...] = (by_author_name["cloze"], by_author_name["extra"], source)
    else:
        rendered = (
            by_author_name["question"],
            by_author_name["answer"],
            by_author_name["extra"],
            source,
        )
    return _rendered(card, rendered, media, tuple(pictures), renderer)


def _render_occlusion_card(card: CardSpec, renderer: _FieldRenderer) -> RenderedCard:
    """Anki's image occlusion fields: Occlusion, Image, Header, Back Extra, Comments. On a
    body map the masks come from the geometry the picture was drawn with."""
    # Imported on first use, like the body-map modules: most card files have no occlusion.
    from deckgen.anki.occlusion import occlusion_field
    from deckgen.bodymap.occlusion import bodymap_mask_groups

    assert card.occlusion is not None
    media: dict[str, MediaFile] = {}
    picture: MediaFile | None = None
    groups = card.occlusion.masks
    if card.bodymap is not None:
        from deckgen.bodymap.draw import draw

        drawing = draw(card.bodymap)
        picture = MediaFile(media_name(drawing.svg, "svg"), drawing.svg)
        groups = bodymap_mask_groups(
            card.occlusion,
            card.bodymap,
            width=drawing.width,
            height=drawing.height,
            shapes=((shape.kind, shape.owner, shape.box) for shape in drawing.shapes),
            muscles=drawing.muscles,
        )
    elif card.image is not None:
        picture = renderer.resolver.resolve(
            card.image.markdown.strip(),
            relative_to=card.image.location.path.parent,
            location=card.image.location,
        )
    for group in groups:
        if not group.masks:
            renderer.report.error(
                group.location, f"card '{card.id}': nothing drawn to mask for {group.what}"
            )
    image = ""
    if picture is not None:
        media[picture.name] = picture
        # Exactly as Anki's mask editor writes it: the editor finds the image by this form.
        image = f'<img src="{html.escape(picture.name)}">'
    source = renderer.html(card.source, media)
    back_extra = renderer.html(card.extra, media)
    if source:
        back_extra += f'<div class="deckgen-source">Source: {source}</div>'
    fields = (
        occlusion_field(groups, hide_all=card.occlusion.hide_all),
        image,
        renderer.html(card.header, media),
        back_extra,
        "",
    )
    bodymaps = (("image", picture),) if card.bodymap is not None and picture else ()
    return _rendered(card, fields, media, bodymaps, renderer)


def _rendered(
    card: CardSpec,
    fields: tuple[str, ...],
    media: dict[str, MediaFile],
    bodymaps: tuple[tuple[str, MediaFile], ...],
    renderer: _FieldRenderer,
) -> RenderedCard:
    """The card as the per-deck stage takes it: its fields, media in name order, pictures,
    the cards Anki makes of it and, given the deck's identity, its guid and fingerprint."""
    notetype = NOTETYPES[card.kind]
    identity = renderer.identity
    guid = fingerprint = None
    if identity is not None:
        guid = identity.guid(card.id)
        if card.kind is not CardKind.OCCLUSION:  # the deck stage still changes its fields
            fingerprint = identity.fingerprint(
                guid=guid, notetype_id=notetype.id, fields=fields, tags=card.tags
            )
    written = AuthoredCard.of(card)
    renderer.authored.append(written)
    return RenderedCard(
        id=card.id,
        kind=card.kind,
        fields=fields,
        tags=card.tags,
        subdeck=card.subdeck,
        media=tuple(media[name] for name in sorted(media)) if media else (),
        bodymaps=bodymaps,
        card_ords=card_ords(notetype, fields),
        location=card.location,
        spec=card if renderer.keep_specs else None,
        guid=guid,
        fingerprint=fingerprint,
        authored=written if renderer.keep_authored else None,
    )


def _check_cards_made(card: CardSpec, rendered: dict[str, str], report: Report) -> None:
    """Report a field that would leave Anki with no card to make, judged on the final HTML."""
    if card.kind is CardKind.CLOZE:
        problem = cloze_problem(rendered["cloze"])
        if problem and card.cloze is not None:
            report.error(card.cloze.location, f"card '{card.id}' {problem}")
        return
    for key, text in (("question", card.question), ("answer", card.answer)):
        if text is not None and is_blank(rendered[key]):
            report.error(
                text.location,
                f"card '{card.id}' has a {key} that is empty once its HTML is cleaned: "
                "Anki would show a blank side; write text or a picture",
            )


def bodymap_media(spec: BodymapSpec) -> list[tuple[MediaFile, str]]:
    """A card's body map as shipped images (one per panel), each with its alt text."""
    # Imported on first use: the drawing code is a tenth of a build's imports, and most
    # card files have no body map.
    from deckgen.bodymap.draw import drawings, picture_alt_text

    return [
        (MediaFile(media_name(drawing.svg, "svg"), drawing.svg), picture_alt_text(spec, panel))
        for panel, drawing in zip(spec.panels, drawings(spec), strict=True)
    ]
