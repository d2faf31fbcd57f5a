"""deckgen: keep flashcard decks as code, and build them into Anki packages."""

# The name deckgen is installed under; "deckgen" itself belongs to another project on the
# package index. The command and the import package keep the name deckgen.
DISTRIBUTION = "deckgen-anki"
# Where deckgen's pre-commit hook and GitHub Action live; `deckgen new` points at it.
REPOSITORY = "https://github.com/deckgen/deckgen"
