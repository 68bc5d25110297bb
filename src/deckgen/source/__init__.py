"""Reading the sources: safe file reads, YAML with locations, deck.yaml's settings (study
options, report link, release versions)."""
