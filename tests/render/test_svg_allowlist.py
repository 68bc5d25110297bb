"""Author SVGs pass an allowlist: plain drawings only, every reference inside the file. A
student can open a media file on its own, where anything active in it would run."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import FIRST_BUILD_TIME, run_deckgen
from deckgen.diagnostics import Location, Report
from deckgen.pipeline.build import compile_project
from deckgen.render.media import MediaResolver
from helpers import REPO

SVG = 'xmlns="http://www.w3.org/2000/svg"'
XLINK = 'xmlns:xlink="http://www.w3.org/1999/xlink"'
XHTML = 'xmlns="http://www.w3.org/1999/xhtml"'
PNG_DATA = "data:image/png;base64,iVBORw0KGgo="

# (name, file content, what the refusal says), several inputs per class
HOSTILE = [
    # active or foreign elements, whatever their namespace
    ("script", f"<svg {SVG}>\n<script>alert(1)</script></svg>", "contains <script> at line 2"),
    ("iframe-xhtml", f'<svg {SVG}><g><iframe {XHTML} src="https://e.example"/></g></svg>',
     "contains <iframe (namespace XHTML)> at line 1"),
    ("body-xhtml", f"<svg {SVG}><body {XHTML}><script>alert(1)</script></body></svg>",
     "contains <body (namespace XHTML)>"),
    ("object", f'<svg {SVG}>\n\n<object data="https://e.example/x.swf"/></svg>',
     "contains <object> at line 3"),
    ("embed", f'<svg {SVG}><embed src="x.swf"/></svg>', "contains <embed>"),
    ("foreign-object", f"<svg {SVG}><foreignObject><p {XHTML}>x</p></foreignObject></svg>",
     "contains <foreignObject>"),
    ("anchor", f'<svg {SVG} {XLINK}><a xlink:href="javascript:alert(1)"><rect/></a></svg>',
     "contains <a>"),
    ("set-href", f'<svg {SVG}><set attributeName="href" to="javascript:alert(1)"/></svg>',
     "contains <set>"),
    ("animate", f'<svg {SVG}><rect><animate attributeName="x" to="1"/></rect></svg>',
     "contains <animate>"),
    ("fe-image", f'<svg {SVG}><filter><feImage href="https://e.example/x.png"/></filter></svg>',
     "contains <feImage>"),
    # attributes: handlers, frames, unknown namespaces
    ("onload", f'<svg {SVG} onload="alert(1)"/>', "has an event handler 'onload' at line 1"),
    ("onclick-upper", f'<svg {SVG}><rect ONCLICK="alert(1)"/></svg>', "event handler 'ONCLICK'"),
    ("srcdoc", f'<svg {SVG}><rect srcdoc="&lt;script&gt;alert(1)&lt;/script&gt;"/></svg>',
     "has the attribute 'srcdoc' on <rect>"),
    ("xml-base", f'<svg {SVG} xml:base="https://e.example/"/>', "has the attribute 'base"),
    ("foreign-attribute", f'<svg {SVG} xmlns:ev="http://www.w3.org/2001/xml-events" '
     'ev:event="load"/>', "has the attribute 'event (namespace"),
    # links and loads out of the file
    ("use-remote", f'<svg {SVG}><use href="https://e.example/x.svg#a"/></svg>',
     "links to 'https://e.example/x.svg#a' from <use> at line 1"),
    ("use-file", f'<svg {SVG} {XLINK}><use xlink:href="file:///etc/passwd#a"/></svg>',
     "links to 'file:///etc/passwd#a'"),
    ("image-remote", f'<svg {SVG}><image href="http://e.example/track.png"/></svg>',
     "links to 'http://e.example/track.png' from <image>"),
    ("image-svg-data", f'<svg {SVG}><image href="data:image/svg+xml;base64,PHN2Zz4="/></svg>',
     "links to 'data:image/svg+xml"),
    ("image-html-data", f'<svg {SVG}><image href="data:text/html,&lt;script&gt;"/></svg>',
     "links to 'data:text/html"),
    ("textpath-remote", f'<svg {SVG}><text><textPath href="//e.example/p"/></text></svg>',
     "links to '//e.example/p'"),
    ("style-url", f'<svg {SVG}><rect style="fill:url(https://e.example/p.svg#g)"/></svg>',
     "refers to 'https://e.example/p.svg#g' in 'style' on <rect>"),
    ("fill-url", f"<svg {SVG}><rect fill=\"url('http://e.example/x#p')\"/></svg>",
     "refers to 'http://e.example/x#p' in 'fill' on <rect>"),
    ("unclosed-url", f'<svg {SVG}><rect style="background:url(http://e.example/x"/></svg>',
     "refers to 'http://e.example/x'"),
    ("import", f'<svg {SVG}><style>@import "https://e.example/x.css";</style></svg>',
     "uses '@import' in <style> ending at line 1"),
    ("style-element-url", f"<svg {SVG}><style>\nrect {{ fill: url(http://e.example/) }}\n"
     "</style></svg>", "refers to 'http://e.example/' in <style> ending at line 3"),
    ("css-escape", f"<svg {SVG}><style>rect{{fill:u\\72l(http://e.example)}}</style></svg>",
     "uses a CSS escape"),
    ("image-set", f'<svg {SVG}><rect style="fill:image-set(\'https://e.example\' 1x)"/></svg>',
     "uses 'image-set'"),
    ("stylesheet-pi", f'<?xml-stylesheet href="https://e.example/x.css"?><svg {SVG}/>',
     "has <?xml-stylesheet?> at line 1"),
    # not an SVG drawing at all
    ("no-namespace", "<svg><rect/></svg>", "is not an SVG file"),
    ("html-root", f"<html {XHTML}><script>alert(1)</script></html>", "is not an SVG file"),
    ("entities", f'<!DOCTYPE svg [<!ENTITY a "b">]><svg {SVG}>&a;</svg>',
     "is not a well-formed SVG file"),
    ("external-entity", f'<!DOCTYPE svg [<!ENTITY a SYSTEM "file:///etc/passwd">]><svg {SVG}>'
     "&a;</svg>", "is not a well-formed SVG file"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "content", "problem"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_a_hostile_svg_is_refused_with_its_line_and_what_to_do(
    tmp_path: Path, name: str, content: str, problem: str
) -> None:
    (tmp_path / f"{name}.svg").write_text(content)
    report = Report()
    found = MediaResolver(tmp_path, report).resolve(
        f"{name}.svg", relative_to=tmp_path, location=Location(tmp_path / "c.yaml", 3, 5)
    )
    assert found is None
    (message,) = [d.message for d in report.diagnostics]
    assert message.startswith(f"image '{name}.svg' ")
    assert problem in message
    if "is not" not in problem:
        assert "remove it, or save the drawing as plain SVG" in message


ALLOWED = [
    f'<svg {SVG} viewBox="0 0 4 4"><defs><linearGradient id="g"><stop offset="0" '
    'stop-color="red"/></linearGradient></defs><rect width="4" fill="url(#g)"/></svg>',
    f'<svg {SVG} {XLINK}><defs><path id="p" d="M0 0h4"/></defs><use xlink:href="#p"/>'
    '<text><textPath href="#p">label</textPath></text></svg>',
    f'<svg {SVG}><image href="{PNG_DATA}" width="1" height="1"/></svg>',
    f"<svg {SVG}><style>rect {{ fill: url(#g); }} @media (prefers-color-scheme: dark) "
    '{ rect { fill: #fff } }</style><rect class="r" data-part="x" aria-label="x"/></svg>',
    f'<?xml version="1.0" encoding="UTF-8"?>\n<!-- drawn by hand -->\n<svg {SVG} '
    'xml:space="preserve"><title>t</title><filter id="f"><feGaussianBlur stdDeviation="1"/>'
    '</filter><circle r="1" filter="url(#f)"/></svg>',
]


@pytest.mark.parametrize("content", ALLOWED)
def test_plain_drawings_pass(tmp_path: Path, content: str) -> None:
    (tmp_path / "ok.svg").write_text(content)
    report = Report()
    found = MediaResolver(tmp_path, report).resolve(
        "ok.svg", relative_to=tmp_path, location=Location(tmp_path / "c.yaml", 3, 5)
    )
    assert report.diagnostics == [] and found is not None


def test_shipped_images_and_deckgens_own_body_maps_pass(tmp_path: Path) -> None:
    shipped = sorted(REPO.glob("cards/**/*.svg")) + sorted(REPO.glob("tests/fixtures/**/*.svg"))
    assert len(shipped) >= 3
    compiled = compile_project(
        REPO / "cards", now=FIRST_BUILD_TIME, report=Report(), packages_dir=REPO / "decks"
    )
    body_maps = [file for deck in compiled for file in deck.media if file.name.endswith(".svg")]
    assert len(body_maps) >= 10
    for file in body_maps:
        (tmp_path / file.name).write_bytes(file.data)
    report = Report()
    for path in [*shipped, *(tmp_path / file.name for file in body_maps)]:
        resolver = MediaResolver(path.parent, report)
        found = resolver.resolve(
            path.name, relative_to=path.parent, location=Location(path.parent / "c.yaml", 1, 1)
        )
        assert found is not None, [d.message for d in report.diagnostics]


def test_a_build_with_a_hostile_svg_stops_with_the_card_and_the_line(
    empty_project: Path,
) -> None:
    deck = empty_project / "cards" / "d"
    deck.mkdir()
    (deck / "deck.yaml").write_text("name: D\nid: d\n")
    (deck / "c.yaml").write_text("cards:\n  - id: a\n    question: Q ![x](x.svg)\n    answer: A\n")
    (deck / "x.svg").write_text(f'<svg {SVG}>\n<g><iframe {XHTML} srcdoc="x"/></g></svg>')
    result = run_deckgen("build")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert re.search(
        r"cards/d/c\.yaml:3:\d+: error: image 'x\.svg' contains <iframe \(namespace XHTML\)> "
        r"at line 2, which card images may not hold: remove it, or save the drawing as plain SVG",
        result.output,
    ), result.output
    assert not (empty_project / "decks").exists()
