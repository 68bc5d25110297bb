"""deckgen: compile flashcards written in YAML into Anki packages that update in place."""

from __future__ import annotations

DISTRIBUTION = "deckgen-anki"
"""The name deckgen is installed under (pyproject.toml): "deckgen" on the public package index
is an unrelated project, so every install line names this one, or a checkout or git URL."""


def __getattr__(name: str) -> str:
    # Looked up on first use: importlib.metadata alone costs about 0.1 s at start-up, which
    # `deckgen --help` should not pay.
    if name != "__version__":
        raise AttributeError(f"module 'deckgen' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0+unknown"
