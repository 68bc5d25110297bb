"""Reading the sources: YAML with locations, safe file reads, validation into typed specs,
the JSON Schema, release versions."""
