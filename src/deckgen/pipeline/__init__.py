"""The build: the per-file stage (check and render one card file), the per-deck stage (notes,
identity, the lock), the build cache, and the orchestration that plans and writes packages."""
