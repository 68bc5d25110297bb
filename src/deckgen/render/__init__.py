"""Turning cards into what students see: Markdown to safe HTML, media, the report link."""
