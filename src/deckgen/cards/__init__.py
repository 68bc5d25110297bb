"""A deck folder checked into typed specs: deck.yaml and every card file, with every problem
located in its file."""
