"""A starter question bank for `deckgen init`: valid and buildable as written."""

from __future__ import annotations

import json
import secrets

from deckgen.model import MAX_DECK_ID
from deckgen.schema import SCHEMA_FILE

# Anki's own ids are milliseconds since 1970; a random id well above them cannot collide.
_ID_FLOOR = 10**13

_HEADER = """\
# yaml-language-server: $schema={schema}
# A deckgen question bank. Check it with `deckgen validate {name}` and build it into an
# Anki package with `deckgen build {name}`. The format is described in deckgen's README.
"""
# The same, for the deck.yaml of the starter bank in many files.
_FOLDER_HEADER = """\
# yaml-language-server: $schema={schema}
# The deck of a deckgen bank in many files: each other .yaml file in this folder holds one
# topic. Check it with `deckgen validate {name}`, build it with `deckgen build {name}`.
"""
STARTER = (
    _HEADER
    + """\
deck:
  name: {deck_name}
  id: {deck_id}                  # never change it: it identifies every note in this deck
  description: Questions I want to remember, with *Markdown* and `code`.
  tags: [interview]
topics:
  - name: Python Basics
    questions:
      - id: list-vs-tuple           # never change it either: it keeps each card's history
        question: How does a `list` differ from a `tuple`?
        answer: |
          A list is **mutable**; a tuple is **immutable**, so it can be a dict key.

          ```python
          point = (1, 2)
          point[0] = 5  # TypeError
          ```
        how_to_answer: Lead with mutability, then say why it matters.
        example_answer: |
          "Lists can change after creation and tuples can't, which makes tuples hashable."
      - id: term-gil
        kind: reversed              # two cards: GIL -> meaning, and meaning -> GIL
        front: GIL
        back: The global interpreter lock
        extra: Only one thread runs Python bytecode at a time.
      - id: list-comprehension
        kind: cloze                 # one card per {{{{cN::...}}}} number
        text: |
          `[x * 2 for x in {{{{c1::items}}}} if {{{{c2::x > 0::a condition}}}}]`
          is a list comprehension.
      - id: len-builtin
        kind: type-in               # the answer is typed, then compared
        question: Which built-in function counts the items of a list?
        answer: len
  - name: HTTP
    tag: http
    questions:
      - id: put-vs-patch
        question: What is the difference between `PUT` and `PATCH`?
        answer: |
          - `PUT` replaces the whole resource and is idempotent.
          - `PATCH` applies a partial change.
        tags: [rest]
"""
)


def starter_bank(*, name: str, deck_name: str = "My Interview Questions") -> str:
    """The text of a starter bank with a freshly drawn deck id; ``name`` is its file name."""
    deck_id = _ID_FLOOR + secrets.randbelow(MAX_DECK_ID - _ID_FLOOR)
    return STARTER.format(
        schema=SCHEMA_FILE, name=name, deck_name=_yaml_text(deck_name), deck_id=deck_id
    )


def _yaml_text(text: str) -> str:
    """``text`` as a YAML scalar: plain when YAML reads it back unchanged, else quoted."""
    import yaml

    try:
        if yaml.safe_load(f"key: {text}") == {"key": text}:
            return text
    except yaml.YAMLError:
        pass
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a YAML double-quoted one


def starter_folder(*, name: str, deck_name: str = "My Interview Questions") -> dict[str, str]:
    """The files of a starter bank in many files, by path in its folder: deck.yaml, one file
    per topic, and the schemas they name; ``name`` is the folder's name."""
    from deckgen.checker import validate
    from deckgen.schema import SCHEMA_FILES, json_schema
    from deckgen.source import compose
    from deckgen.split import split_text

    text = starter_bank(name=name, deck_name=deck_name)
    files = split_text(text, validate(compose(text, name=name), file=name, text=text))
    # split_text() kept the file's header, pointed at the deck schema: say what the folder is.
    schema = SCHEMA_FILES["deck"]
    deck = files["deck.yaml"].removeprefix(_HEADER.format(schema=schema, name=name))
    files["deck.yaml"] = _FOLDER_HEADER.format(schema=schema, name=name) + deck
    for kind in ("deck", "topic"):
        files[SCHEMA_FILES[kind]] = json.dumps(json_schema(kind), indent=2) + "\n"
    return files
