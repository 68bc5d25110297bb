"""deck.yaml's ``options``: the study settings an instructor suggests, shipped as a preset.

```yaml
options:
  new_per_day: 15              # new cards a day, 0 to 9999
  learning_steps: [1m, 10m, 1d]  # s, m, h or d; 1 to 20 steps, each up to 365d
  desired_retention: 0.9       # 0.70 to 0.99 (used by FSRS)
```

Every key is optional; problems are reported where they are written. What Anki does with
the preset (only when a student ticks "Import any deck presets") is in anki_package.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from deckgen.diagnostics import Report
from deckgen.source.yamlnodes import Mapping, Node, Scalar, Sequence, describe, report_unknown_keys

OPTION_KEYS = frozenset({"new_per_day", "learning_steps", "desired_retention"})

MAX_NEW_PER_DAY = 9999
"""Anki's own upper limit for new cards a day."""
MAX_STEPS = 20
MAX_STEP_MINUTES = 365 * 24 * 60
RETENTION_RANGE = (0.70, 0.99)
"""What Anki's deck options accept for desired retention."""

_STEP = re.compile(r"(\d{1,6}(?:\.\d{1,3})?)([smhd])")
_MINUTES_PER_UNIT = {"s": 1 / 60, "m": 1, "h": 60, "d": 24 * 60}


@dataclass(frozen=True)
class DeckOptions:
    """The settings of the deck's preset; None keeps Anki's default for that setting."""

    new_per_day: int | None = None
    learning_steps: tuple[float, ...] | None = None
    """In minutes, as Anki stores them."""
    desired_retention: float | None = None


def read_deck_options(mapping: Mapping, report: Report) -> DeckOptions | None:
    """deck.yaml's ``options``, checked; None when absent or wrong (reported)."""
    node = mapping.get("options")
    if node is None:
        return None
    if not isinstance(node, Mapping):
        report.error(
            node.location, f"'options' must be a mapping of settings, not {describe(node)}"
        )
        return None
    report_unknown_keys(node, OPTION_KEYS, "'options'", report)
    if not node.entries:
        report.error(node.location, f"'options' is empty: set {', '.join(sorted(OPTION_KEYS))}")
        return None
    errors = report.error_count
    options = DeckOptions(
        new_per_day=_new_per_day(node.get("new_per_day"), report),
        learning_steps=_steps(node.get("learning_steps"), report),
        desired_retention=_retention(node.get("desired_retention"), report),
    )
    return options if report.error_count == errors else None


def _new_per_day(node: Node | None, report: Report) -> int | None:
    if node is None:
        return None
    text = node.text.strip() if isinstance(node, Scalar) else ""
    if not (text.isascii() and text.isdigit() and len(text) <= 4):
        report.error(
            node.location,
            f"'new_per_day' must be a whole number from 0 to {MAX_NEW_PER_DAY}, not "
            f"{describe(node)}",
        )
        return None
    return int(text)


def _steps(node: Node | None, report: Report) -> tuple[float, ...] | None:
    if node is None:
        return None
    hint = "a list of durations like [1m, 10m, 1d] (s, m, h or d)"
    if not isinstance(node, Sequence) or not 1 <= len(node.items) <= MAX_STEPS:
        report.error(
            node.location,
            f"'learning_steps' must be {hint}, 1 to {MAX_STEPS} of them, not {describe(node)}",
        )
        return None
    steps = []
    for item in node.items:
        match = _STEP.fullmatch(item.text.strip()) if isinstance(item, Scalar) else None
        minutes = float(match[1]) * _MINUTES_PER_UNIT[match[2]] if match else 0.0
        if match is None or not 0 < minutes <= MAX_STEP_MINUTES:
            report.error(
                item.location,
                f"a learning step must be a duration like 10m or 1d, more than 0 and at most "
                f"365d, not {describe(item)}",
            )
            return None
        steps.append(round(minutes, 4))
    return tuple(steps)


def _retention(node: Node | None, report: Report) -> float | None:
    if node is None:
        return None
    low, high = RETENTION_RANGE
    text = node.text.strip() if isinstance(node, Scalar) else ""
    value = float(text) if re.fullmatch(r"0\.\d{1,4}", text) else None
    if value is None or not low <= value <= high:
        report.error(
            node.location,
            f"'desired_retention' must be a number from {low:.2f} to {high:.2f}, e.g. 0.90, not "
            f"{describe(node)}",
        )
        return None
    return value
