"""Property-based tests (hypothesis), time-boxed for CI.

- Arbitrary card files give either a package that Anki's engine imports cleanly (the right
  field count, at least one card per note, every row as genanki would write it) or
  deckgen's own errors; never another exception.
- Whatever the nesting of HTML, Markdown and math, nothing executable reaches a field.
- HTML the sanitiser leaves unchanged holds nothing to warn about.
- Whatever a lock's retired section holds, the package ships notices Anki imports, or deckgen
  reports errors; a previous package damaged anywhere is read or refused, never a crash.
"""

from __future__ import annotations

import io
import json
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import TypeVar
from unittest import mock

import nh3
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from anki_engine import StudentCollection
from conftest import FIRST_BUILD_TIME
from deckgen.anki.anki_package import package_bytes
from deckgen.anki.package_reader import UnreadablePackage, package_content
from deckgen.diagnostics import Report, SourceErrors
from deckgen.pipeline.build import compile_project
from deckgen.render import render as render_module
from deckgen.render.render import disallowed_html, sanitise
from genanki_reference import genanki_rows, package_rows
from helpers import REPO, rendered_field
from html_safety import executable_constructs

# Pieces an attacker (or a hurried author) combines: HTML, Markdown, math, clozes, entities,
# placeholders' private-use characters, control characters and lone surrogates.
SNIPPETS = [
    "{{c1::", "{{c2::", "{{c0::", "::", "}}", "\\(", "\\)", "\\[", "\\]", "<script>",
    "</script>", "<!--", "-->", "&#x1f;", "&#92;", "&#xe000;", "\ue000", "\ue001", "0", "1",
    '<b onclick="x()">', "</b>", '<a href="', "javascript:alert(1)", '">', "</a>", "\\href{",
    "\\require{html}", "}{x}", "![x](", ")", "*", "_", "`", "|", "\n", "\n\n", '"', "'", " ",
    "<span title=\"", "<img src=x onerror=alert(1)>", "<svg onload=alert(1)>", "data:text/html,",
    "&lt;", "&amp;", "<style>", "</style>", "[", "]", "<div class=\"", "\x1f", "\ud800", "\x1b",
    "<iframe>", "<math>", "java\tscript:", "&#106;avascript:", "<!", "</", "<?", "-", "# ",
]  # fmt: skip

YAML_SNIPPETS = [
    "cards:", "- ", "  ", "id: x", "question: ", "answer: ", "cloze: ", "&a ", "*a", "!!str ",
    "{", "}", ",", "? ", "tags: [", "type: cloze", "\t", "%", "@", "!x ", "<<: ",
]  # fmt: skip

# Control characters come from SNIPPETS now and then; in every piece they would stop nearly
# every example at loading.
_PRINTABLE = st.characters(blacklist_categories=("Cc", "Cs"))
field_text = st.lists(
    st.one_of(st.sampled_from(SNIPPETS), st.text(_PRINTABLE, max_size=8)), max_size=14
).map("".join)

_word = st.from_regex(r"[A-Za-z0-9]{1,8}", fullmatch=True)
_cloze_text = st.tuples(field_text, _word, field_text).map(
    lambda parts: f"{parts[0]} {{{{c1::{parts[1]}}}}} {parts[2]}"
)
_sided_text = st.tuples(_word, field_text).map(" ".join)
_tags = st.lists(st.from_regex(r"[a-z][a-z0-9_-]{0,5}", fullmatch=True), max_size=3)
_cloze_card = st.fixed_dictionaries(
    {"type": st.just("cloze"), "cloze": _cloze_text},
    optional={"extra": field_text, "tags": _tags},
)
_sided_card = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["basic", "reversed", "typein"]),
        "question": _sided_text,
        "answer": _sided_text,
    },
    optional={"extra": field_text, "source": field_text, "tags": _tags},
)
# Mostly well-formed cards with hostile text inside, so many examples get as far as Anki.
card_file = st.lists(st.one_of(_cloze_card, _sided_card), min_size=1, max_size=4).map(
    lambda cards: {"cards": [{"id": f"c{index}", **card} for index, card in enumerate(cards)]}
)

FIELD_COUNT = {"basic": 4, "reversed": 4, "typein": 4, "cloze": 3}


def _write_project(root: Path, card_yaml: str, lock: str | None) -> None:
    (root / "cards/d").mkdir(parents=True)
    (root / "cards/d/deck.yaml").write_text("name: D\nid: d\n")
    (root / "cards/d/c.yaml").write_text(card_yaml, encoding="utf-8", errors="surrogatepass")
    if lock is not None:
        (root / "cards/d/deck.lock").write_text(lock, encoding="utf-8", errors="surrogatepass")


def _compile_and_import(card_yaml: str, lock: str | None = None) -> None:
    """The property: deckgen's errors, or a package Anki imports whole (``lock``: the deck's
    lock file, untrusted too)."""
    root = Path(tempfile.mkdtemp(prefix="deckgen-property-"))
    try:
        _write_project(root, card_yaml, lock)
        report = Report()
        try:
            decks = compile_project(
                root / "cards", now=FIRST_BUILD_TIME, report=report, packages_dir=root / "decks"
            )
        except SourceErrors:
            assert report.error_count > 0
            return
        package = root / "d.apkg"
        package.write_bytes(package_bytes(decks[0]))
        assert package_rows(package.read_bytes()) == genanki_rows(decks[0])
        student = StudentCollection(root)
        try:
            student.import_package(package)
            notes = student.notes()
            assert len(notes) == len(decks[0].notes)
            for compiled in decks[0].notes:
                note = notes[compiled.guid]
                assert len(note.fields) == FIELD_COUNT[compiled.notetype.kind.value]
                assert len(note.card_ids()) >= 1
        finally:
            student.close()
        for note in decks[0].notes:
            for rendered in note.fields:
                assert executable_constructs(rendered) == [], rendered
        for note in decks[0].retired_notes:
            assert note.fields[0].startswith(("<strong>Retired card</strong>", "<p><strong>"))
    finally:
        shutil.rmtree(root)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(card_file)
def test_generated_card_files_build_importable_packages_or_report_errors(
    document: dict[str, object],
) -> None:
    _compile_and_import(yaml.safe_dump(document, allow_unicode=True))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.sampled_from(
            [
                *SNIPPETS,
                "cards:",
                "- ",
                "  ",
                "id: x",
                "question: ",
                "answer: ",
                "&a ",
                "*a",
                "!!str ",
                "{",
                "}",
                ",",
                "? ",
                "cloze: ",
            ]
        ),
        max_size=30,
    ).map("".join)
)
def test_arbitrary_yaml_text_never_raises_anything_but_deckgen_errors(text: str) -> None:
    _compile_and_import("cards:\n  - id: x\n    question: " + text + "\n    answer: A\n")
    _compile_and_import(text)


T = TypeVar("T")


def _mostly(usual: st.SearchStrategy[T], odd: st.SearchStrategy[T]) -> st.SearchStrategy[T]:
    """``usual`` nine times in ten, else ``odd`` (one_of would draw each half the time)."""
    return st.tuples(st.integers(0, 9), usual, odd).map(lambda d: d[2] if d[0] == 0 else d[1])


def _entry_deckgen_wrote(kind: str) -> st.SearchStrategy[dict[str, object]]:
    """An entry of the shape deckgen writes for ``kind``: a format-1 one with hostile old
    text, or a format-2 one with cards."""
    first = _cloze_text if kind == "cloze" else field_text
    common = {
        "announced_in": st.one_of(st.none(), st.just("1.2.0")),
        "mod": st.integers(min_value=0, max_value=253_402_300_799),
        "type": st.just(kind),
    }
    return st.one_of(
        st.fixed_dictionaries(
            {
                **common,
                "fields": st.tuples(first, *[field_text] * (FIELD_COUNT[kind] - 1)).map(list),
                "deck": field_text,
                "tags": st.lists(field_text, max_size=3),
            }
        ),
        st.fixed_dictionaries(
            {
                **common,
                # Small numbers: genanki, the reference rows are compared with, orders a cloze
                # note's cards as a set of ints iterates, which is ascending only below 8.
                "cards": st.lists(st.integers(0, 6), min_size=1, max_size=3, unique=True).map(
                    sorted
                ),
                "fingerprint": st.text(max_size=4),
            }
        ),
    )


# Now and then what deckgen never writes: another type, card numbers or field count, a
# release that is no version.
_odd_entry = st.fixed_dictionaries(
    {
        "announced_in": st.one_of(st.none(), st.sampled_from(["x", "9" * 50]), field_text),
        "mod": st.integers(min_value=0, max_value=253_402_300_799),
        "type": st.one_of(st.sampled_from(["basic", "cloze"]), field_text),
        "cards": st.lists(st.sampled_from([-2, 0, 1, 6, 500, 600]), max_size=4),
        "fingerprint": st.text(max_size=4),
    }
)
_retired_entry = _mostly(
    st.sampled_from(sorted(FIELD_COUNT)).flatmap(_entry_deckgen_wrote), _odd_entry
)


_retired_section = st.dictionaries(  # keys: mostly card ids, now and then any text
    _mostly(_word, field_text), _retired_entry, max_size=3
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_retired_section, st.sampled_from([1, 2]))
def test_a_lock_retired_section_gives_notices_anki_imports_or_errors(
    retired: dict[str, dict[str, object]], lock_format: int
) -> None:
    lock = {"format": lock_format, "notes": {}, "notetypes": {}, "retired": retired}
    _compile_and_import("cards:\n  - id: live\n    question: Q\n    answer: A\n", json.dumps(lock))


def _package_members(package: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(package)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


_SAMPLE_PACKAGE = (REPO / "tests/fixtures/gluteus-medius-e5aada0.apkg").read_bytes()
_SAMPLE_MEMBERS = _package_members(_SAMPLE_PACKAGE)
_replacements = st.lists(st.tuples(st.integers(min_value=0), st.binary(min_size=1, max_size=8)))


def _damaged(data: bytes, replacements: list[tuple[int, bytes]]) -> bytes:
    damaged = bytearray(data)
    for position, piece in replacements:
        at = position % max(len(damaged), 1)
        damaged[at : at + len(piece)] = piece
    return bytes(damaged)


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from([*sorted(_SAMPLE_MEMBERS), "meta", "collection.anki21b", "(zip)"]),
    _replacements,
)
def test_the_package_reader_reads_or_refuses_any_damaged_package(
    member: str, replacements: list[tuple[int, bytes]]
) -> None:
    """A package with damage anywhere, in the zip or inside a member (the collection's SQLite
    pages, its JSON, the media list), is read or refused with UnreadablePackage, nothing else."""
    if member == "(zip)":
        package = _damaged(_SAMPLE_PACKAGE, replacements)
    else:
        members = dict(_SAMPLE_MEMBERS)
        members[member] = _damaged(members.get(member, b"\x08\x03"), replacements)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for name, data in members.items():
                archive.writestr(name, data)
        package = buffer.getvalue()
    try:
        content = package_content(package, name="old.apkg")
    except UnreadablePackage as exc:
        assert str(exc).startswith("old.apkg ")
        return
    assert all(isinstance(note.fields, str) for note in content.notes.values())


@settings(max_examples=300, deadline=None)
@given(field_text)
def test_the_sanitiser_lets_nothing_executable_through(markdown: str) -> None:
    html, _, diagnostics = rendered_field(markdown)
    if not any(": error: " in diagnostic for diagnostic in diagnostics):
        assert executable_constructs(html) == [], html


@pytest.mark.parametrize(
    "markdown",
    [
        '<span title="\\(" onmouseover="alert(1)" x="\\)">y</span>',
        "\\(\\href{javascript:alert(1)}{x}\\)",
        "<img src=x onerror=alert(1)>",
        '<a href="java\tscript:alert(1)">x</a>',
    ],
)
def test_the_safety_check_itself_sees_what_it_looks_for(markdown: str) -> None:
    # Guards the property above against a checker that finds nothing.
    assert executable_constructs(markdown) != []


# HTML pieces the sanitiser keeps as they are and pieces it removes or rewrites.
_HTML_PIECES = [
    "<b>", "</b>", "<em>", "</em>", "<p>", "</p>", "<code>", "</code>", "<ul>", "<li>",
    "</li>", "</ul>", "<br>", '<span class="x">', "</span>", '<div class="deckgen-bodymap">',
    "</div>", '<img src="deckgen-a.png" alt="a">', '<img src="other.png">', "<hr>",
    '<a href="https://example.org" rel="noopener noreferrer">', "</a>", '<a href="x">',
    '<a rel="noopener noreferrer">', '<a rel="nofollow">',
    '<td colspan="2">', "<table>", "<tr>", "<sub>", "</sub>", '<b title="t">', '<b id="i">',
    "<u>", "</u>", "<foo>", "</foo>", "<script>", "</script>", "<!-- c -->", '<p style="x">',
    '<ol start="3">', "</ol>", "&amp;", "&lt;", "\n", " ", "text", "é", '"', "'", ">",
]  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_HTML_PIECES), max_size=12).map("".join))
def test_html_the_sanitiser_leaves_as_it_is_has_nothing_to_report(raw_html: str) -> None:
    """render_field names what the sanitiser removed only when its output differs from its
    input; that shortcut is sound only if unchanged HTML never holds anything to report."""
    names = {"deckgen-a.png"}
    if sanitise(raw_html, names) == raw_html:
        assert disallowed_html(raw_html, names) == []


# Fields for the plain-text fast path: plain words and numbers (which it takes) mixed with
# every character and line start that means something to Markdown or HTML (which it must not).
_FAST_PATH_PIECES = [
    "Card 12: where is it?", "gluteus medius", "side-lying", "1", "12", "3.5 cm", ".", ")",
    "1. ", "2) ", "# ", "## ", "#", "> ", ">", "- ", "-", "--- ", "+ ", "+", "* ", "*", "=",
    "===", "_", "__", "`", "```", "~", "~~", "|", "| a | b |", "[", "]", "![", "(", ")", "!",
    "<", "</p>", "<b>", "&", "&amp;", "&nbsp;", "&#42;", "&quot;", '"', "'", "\\", "\\*",
    "\\(x^2\\)", "\\[y\\]", "{{c1::gluteus}}", "{{c2::x::hint}}", "::", "{", "}", " ", "  ",
    "    ", "\t", "\n", "\n\n", "\r\n", "\u00a0", "\u2028", "\u200b", "\ufeff", "\x0b", "é",
    "π", "😀", "https://example.org", "a@b.org", "[sound:x.mp3]", "[latex]", "$", ":", ";",
]  # fmt: skip
_fast_path_field = st.lists(
    st.one_of(st.sampled_from(_FAST_PATH_PIECES), st.text(max_size=4)), max_size=10
).map("".join)


@settings(max_examples=1500, deadline=None)
@given(_fast_path_field)
def test_the_plain_text_fast_path_renders_what_markdown_it_renders(markdown: str) -> None:
    """A field the fast path takes gets exactly the HTML and diagnostics the full path
    (markdown-it) gives it; the fast path's paragraph is markdown-it's byte for byte."""
    stripped = markdown.strip()
    if render_module._is_plain_text(stripped):
        assert render_module._plain_paragraph(stripped) == render_module.markdown_engine().render(
            stripped
        )
    fast = rendered_field(markdown)
    with mock.patch.object(render_module, "_is_plain_text", lambda text: False):
        full = rendered_field(markdown)
    assert fast == full


@pytest.mark.parametrize(
    ("field", "plain"),
    [
        ("Card 12: where is it?", True),
        ('The "short" head, 3.5 cm lateral (side-lying) {{c1::x}}', True),
        ("12 cm", True),
        ("12. cm", False),
        ("12) cm", False),
        ("# heading", False),
        ("> quote", False),
        ("- item", False),
        ("+ item", False),
        ("= x", False),
        ("a *b*", False),
        ("a\nb", False),
        ("a\tb", False),
        ("a &amp; b", False),
        ("\\(x\\)", False),
        ("a\u00a0b", False),
    ],
)
def test_the_fast_path_takes_plain_sentences_only(field: str, plain: bool) -> None:
    # Guards the property above against a fast path that is never (or always) taken.
    assert render_module._is_plain_text(field) is plain


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.sampled_from(_HTML_PIECES), max_size=12).map("".join),
    st.sets(st.sampled_from(["deckgen-a.png", "other.png", "x"]), max_size=2),
)
def test_the_sanitiser_built_once_cleans_as_one_built_per_call(
    raw_html: str, image_names: set[str]
) -> None:
    per_call = nh3.clean(
        raw_html,
        tags=set(render_module.ALLOWED_TAGS),
        attributes=render_module.ALLOWED_ATTRIBUTES,
        tag_attribute_values={"img": {"src": image_names}},
        url_schemes={"http", "https", "mailto"},
        clean_content_tags={"script", "style"},
    )
    assert render_module._allowed_html(raw_html, image_names) == per_call
