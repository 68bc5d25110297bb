"""The one way tests write a deck folder of their own (the sample project is
tests/fixtures/sample, copied by the ``project`` fixture)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parent.parent
"""The repository: tests sit in folders by layer, so none counts parents from itself."""

DECK_YAML = "name: D\nid: d\n"


def write_deck_folder(
    root: Path,
    files: Mapping[str, str | bytes],
    *,
    folder: str = "d",
    deck_yaml: str = DECK_YAML,
) -> Path:
    """``root/cards/<folder>`` with ``deck_yaml`` as deck.yaml and ``files`` (card files,
    images), named relative to the deck folder; returns the deck folder."""
    deck = root / "cards" / folder
    deck.mkdir(parents=True, exist_ok=True)
    (deck / "deck.yaml").write_text(deck_yaml)
    for name, content in files.items():
        path = deck / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return deck


OUTPUT_LIBRARIES = ["genanki", "markdown_it", "nh3", "yaml", "defusedxml"]
"""The libraries that shape deckgen's output: a command answered before the pipeline is
imported (a no-op build, an unchanged check, a reprinted lint) imports none of them."""
_IMPORT_PROBE = (
    "import json, sys\n"
    "from deckgen.cli import cli\n"
    "try:\n"
    "    cli(sys.argv[1:], prog_name='deckgen')\n"
    "except SystemExit:\n"
    "    pass\n"
    f"print(json.dumps([name for name in {OUTPUT_LIBRARIES!r} if name in sys.modules]))\n"
)


def output_libraries_imported(*args: str) -> tuple[list[str], str, str]:
    """Run ``deckgen *args`` in a process of its own (in the current folder): which of
    OUTPUT_LIBRARIES it imported, what it printed on stdout, and on stderr."""
    result = subprocess.run(
        [sys.executable, "-c", _IMPORT_PROBE, *args], capture_output=True, text=True, check=True
    )
    *said, imported = result.stdout.splitlines()
    return json.loads(imported), "\n".join(said), result.stderr


def benchmark_modules() -> tuple[ModuleType, ModuleType]:
    """bench/bench.py and bench/peers.py, which write the benchmark's card files."""
    if "bench" not in sys.modules:
        sys.path.insert(0, str(REPO / "bench"))  # bench.py imports peers.py beside it
        spec = importlib.util.spec_from_file_location("bench", REPO / "bench" / "bench.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["bench"] = module  # its dataclasses look their module up
        spec.loader.exec_module(module)
    return sys.modules["bench"], sys.modules["peers"]


def rendered_field(markdown: str) -> tuple[str, list[str], list[str]]:
    """What render_field makes of ``markdown`` in a card file: its HTML, the names of its
    images and its diagnostics, for comparing one way of rendering with another."""
    from deckgen.diagnostics import Location, Report
    from deckgen.render.media import MediaResolver
    from deckgen.render.render import render_field

    report = Report()
    rendered = render_field(
        markdown,
        location=Location(Path("c.yaml"), 1, 1),
        card_folder=Path("."),
        media=MediaResolver(Path("."), report),
        report=report,
    )
    return rendered.html, [m.name for m in rendered.media], [str(d) for d in report.diagnostics]
