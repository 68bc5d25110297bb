"""What Anki's importer sees: notetypes and their templates, identity and the lock, the
package written and read, retired cards, the deck description."""
