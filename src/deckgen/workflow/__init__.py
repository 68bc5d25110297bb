"""What authors and instructors run around a build: preview, lint, stats, init, schema,
changelog, verify, release, watch, the progress bar."""
