"""The floor: the least any PyYAML + genanki tool can do with a bank.

    python bench/floor.py bank.yaml out.apkg

Loads the file with yaml.CSafeLoader and writes the raw strings with genanki, with explicit
GUIDs: no validation, no Markdown, no lock. Like deckgen's build, it runs with Python's
cyclic garbage collector off: with it on, the collector rescans every object the YAML load
made, again and again, and the floor would grow faster than linearly with the bank.
"""

from __future__ import annotations

import gc
import sys

import genanki
import yaml

FIELDS = ("question", "answer", "how_to_answer", "example_answer")


def main(source: str, out: str) -> None:
    gc.disable()
    with open(source, encoding="utf-8") as f:
        data = yaml.load(f, Loader=yaml.CSafeLoader)
    model = genanki.Model(
        1607392320,
        "floor",
        fields=[{"name": n} for n in FIELDS],
        templates=[{"name": "Card", "qfmt": "{{question}}", "afmt": "{{answer}}"}],
    )
    deck = genanki.Deck(data["deck"]["id"], data["deck"]["name"])
    for topic in data["topics"]:
        for q in topic["questions"]:
            # Optional fields may be missing from banks that were not generated here.
            fields = [str(q.get(name) or "") for name in FIELDS]
            deck.add_note(genanki.Note(model=model, fields=fields, guid=q["id"]))
    genanki.Package(deck).write_to_file(out)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
