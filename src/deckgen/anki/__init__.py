"""What Anki's importer sees: notetypes, identity and the lock, the package, retired cards,
the upgrade rehearsal."""
