"""The command line: ``deckgen`` and its commands, one module per kind of work."""

from deckgen.cli import build, release, review  # noqa: F401  (each registers its commands)
from deckgen.cli.main import cli, main

__all__ = ["cli", "main"]
