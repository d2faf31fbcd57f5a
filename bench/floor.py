"""The floor: the least any PyYAML + genanki tool can do with a bank.

    python bench/floor.py bank.yaml out.apkg

Loads the file with yaml.CSafeLoader and writes the raw strings with genanki, with explicit
GUIDs: no validation, no Markdown, no lock.
"""

from __future__ import annotations

import sys

import genanki
import yaml


def main(source: str, out: str) -> None:
    with open(source, encoding="utf-8") as f:
        data = yaml.load(f, Loader=yaml.CSafeLoader)
    model = genanki.Model(
        1607392320,
        "floor",
        fields=[{"name": n} for n in ("Question", "Answer", "How", "Example")],
        templates=[{"name": "Card", "qfmt": "{{Question}}", "afmt": "{{Answer}}"}],
    )
    deck = genanki.Deck(data["deck"]["id"], data["deck"]["name"])
    for topic in data["topics"]:
        for q in topic["questions"]:
            fields = [q["question"], q["answer"], q["how_to_answer"], q["example_answer"]]
            deck.add_note(genanki.Note(model=model, fields=fields, guid=q["id"]))
    genanki.Package(deck).write_to_file(out)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
