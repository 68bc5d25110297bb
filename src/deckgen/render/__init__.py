"""Turning cards into what students see: Markdown to safe HTML, media, body maps, Anki's
template substitution."""
