"""The command line: ``deckgen`` and its commands."""

from deckgen.cli.main import cli, main

__all__ = ["cli", "main"]
