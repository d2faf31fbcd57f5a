"""deckgen: keep flashcard decks as code, and build them into Anki packages."""
