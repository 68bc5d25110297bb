"""Stage 1: read a YAML file into nodes that remember where each value came from.

The file is read through the safe file layer, refused whole for bytes that are not UTF-8 or
characters YAML forbids, then read line by line when every value fits on its line
(simple_yaml.py, most card files), else by the full reader (full_yaml.py, PyYAML's events),
which reports every problem. Both give the same located nodes (yamlnodes.py).
"""

from __future__ import annotations

import re
from pathlib import Path

from deckgen.diagnostics import Location, Report
from deckgen.source.safe_files import TooLarge, UnsafeFile, read_file
from deckgen.source.simple_yaml import read_simple_yaml
from deckgen.source.yamlnodes import Node, name_character

MAX_FILE_BYTES = 2 * 1024 * 1024
"""Card files are text written by hand; anything larger is a mistake or an attack."""

# Characters YAML itself refuses in a file (except line breaks and tab), found up front so the
# message names their place and does not depend on which parser runs.
_FORBIDDEN_IN_FILE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ufffe\uffff]")


def load_yaml(
    path: Path, report: Report, *, within: Path | None = None, data: bytes | None = None
) -> Node | None:
    """Read one YAML file, which must lie inside ``within`` (default: its own folder); on any
    problem report it and return None. ``data``: its bytes when already read, through
    ``read_file`` with the same ``within`` and ``MAX_FILE_BYTES``."""
    whole_file = Location(path)
    try:
        if data is None:
            data = read_file(path, within=within or path.parent, max_bytes=MAX_FILE_BYTES)
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        report.error(
            _position(path, exc.object, exc.start),
            f"not UTF-8 text (byte {exc.start + 1}): save the file as UTF-8",
        )
        return None
    except TooLarge as exc:
        report.error(whole_file, f"file {exc}: split it into several card files")
        return None
    except UnsafeFile as exc:
        report.error(whole_file, f"file {exc}")
        return None
    bad = _FORBIDDEN_IN_FILE.search(text)
    if bad:
        report.error(
            _position(path, text, bad.start()),
            f"{name_character(bad.group())} is not allowed in a card file: remove it "
            "(only tab and newline may appear among control characters)",
        )
        return None
    simple = read_simple_yaml(path, text)
    if simple is not None:  # most card files: read line by line, with nothing to report
        return simple
    # Imported here: a build whose card files all have the simple shape never needs PyYAML.
    from deckgen.source.full_yaml import read_full_yaml

    return read_full_yaml(path, text, report)


def _position(path: Path, text: str | bytes, index: int) -> Location:
    """The 1-based line and column of ``index`` in ``text`` (columns count characters)."""
    before = text[:index]
    if isinstance(before, bytes):
        before = before.decode("utf-8", errors="replace")
    line_start = before.rfind("\n") + 1
    return Location(path, before.count("\n") + 1, len(before) - line_start + 1)
