"""What authors and instructors run around a build: preview, lint, stats, init, changelog,
release, watch, the progress bar."""
