"""Stage 3: image references resolved safely into content-hashed media files."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from deckgen.diagnostics import Location, Report
from deckgen.render.media import MediaResolver, media_name
from deckgen.values import MediaFile
from helpers import REPO

PNG = (REPO / "tests/fixtures/sample/cards/demo/images/chart.png").read_bytes()
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><rect width="4"/></svg>'


@pytest.fixture
def deck(tmp_path: Path) -> Path:
    folder = tmp_path / "cards" / "deck"
    (folder / "images").mkdir(parents=True)
    (folder / "images" / "chart.png").write_bytes(PNG)
    (folder / "images" / "shape.svg").write_bytes(SVG)
    return folder


def resolve(
    deck: Path, reference: str, relative_to: Path | None = None
) -> tuple[MediaFile | None, list[str]]:
    report = Report()
    resolver = MediaResolver(deck, report)
    found = resolver.resolve(
        reference, relative_to=relative_to or deck, location=Location(deck / "cards.yaml", 3, 5)
    )
    return found, [d.message for d in report.diagnostics]


def test_names_are_content_hashes(deck: Path) -> None:
    found, problems = resolve(deck, "images/chart.png")
    assert problems == []
    assert found == MediaFile(f"deckgen-{hashlib.sha256(PNG).hexdigest()[:24]}.png", PNG)
    assert media_name(PNG + b"x", "png") != found.name
    assert not found.name.startswith("_"), "Anki never replaces files starting with _"


def test_paths_are_relative_to_the_card_file(deck: Path) -> None:
    (deck / "sub").mkdir()
    found, problems = resolve(deck, "../images/shape.svg", relative_to=deck / "sub")
    assert problems == [] and found is not None and found.name.endswith(".svg")


def test_jpeg_extension_is_normalised(deck: Path) -> None:
    (deck / "images" / "photo.jpeg").write_bytes(b"\xff\xd8\xff\xe0rest")
    found, problems = resolve(deck, "images/photo.jpeg")
    assert problems == [] and found is not None and found.name.endswith(".jpg")


@pytest.mark.parametrize(
    ("reference", "problem"),
    [
        ("images/missing.png", "image 'images/missing.png' not found"),
        (
            "../../outside.png",
            "image '../../outside.png' lies outside the deck folder 'deck': "
            "copy it into the deck folder",
        ),
        (
            "/etc/passwd.png",
            "image '/etc/passwd.png' is an absolute path: write it relative to "
            "the card file, e.g. images/x.svg",
        ),
        (
            "https://example.org/x.png",
            "image 'https://example.org/x.png' is not a file in the deck "
            "folder: deckgen ships only local images",
        ),
        (
            "images/notes.txt",
            "image 'images/notes.txt' is not a supported type; use one of .png, "
            ".jpg, .gif, .webp, .jpeg, .svg",
        ),
    ],
)
def test_refused_references(deck: Path, reference: str, problem: str) -> None:
    (deck.parent.parent / "outside.png").write_bytes(PNG)
    (deck / "images" / "notes.txt").write_text("hello")
    found, problems = resolve(deck, reference)
    assert found is None
    assert len(problems) == 1 and problems[0].startswith(problem)


def test_symlink_out_of_the_deck_is_refused(deck: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.png"
    secret.write_bytes(PNG)
    (deck / "images" / "link.png").symlink_to(secret)
    found, problems = resolve(deck, "images/link.png")
    assert found is None
    assert problems == [
        "image 'images/link.png' lies outside the deck folder 'deck': copy it into the deck folder"
    ]


@pytest.mark.parametrize(
    ("name", "data", "problem"),
    [
        (
            "fake.png",
            b"GIF89a not a png",
            "is not a valid .png file (its bytes do not match the extension)",
        ),
        ("broken.svg", b"<svg", "is not a well-formed SVG file"),
        ("html.svg", b"<html/>", "is not an SVG file (its root element is not <svg>"),
        (
            "script.svg",
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "contains <script> at line 1, which card images may not hold",
        ),
        (
            "handler.svg",
            b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
            "has an event handler 'onload' at line 1, which card images may not hold",
        ),
        (
            "entities.svg",
            b'<!DOCTYPE svg [<!ENTITY a "aaaa">]><svg xmlns="http://www.w3.org/2000/svg">&a;</svg>',
            "is not a well-formed SVG file",
        ),
    ],
)
def test_bad_image_content_is_refused(deck: Path, name: str, data: bytes, problem: str) -> None:
    (deck / "images" / name).write_bytes(data)
    found, problems = resolve(deck, f"images/{name}")
    assert found is None
    assert len(problems) == 1 and problems[0].startswith(f"image 'images/{name}' {problem}")
