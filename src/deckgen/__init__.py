"""deckgen: compile flashcards written in YAML into Anki packages that update in place."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("deckgen")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
