"""The pre-commit hook: validate the YAML files that are deckgen banks, and only those.

pre-commit hands the hook every staged YAML file. Workflows, docker-compose.yml and the
pre-commit config are YAML too, so the hook picks the banks by content rather than by
name: a bank has a top-level `deck:` or `topics:` key (both required), so a bank under any
file name, even one missing either key, is checked, and other YAML is left alone.

A folder bank is checked as a whole whenever any of its files is staged: its deck.yaml, a
topic file, or another YAML file in it (not in a dot-folder). A folder is a folder bank when
its deck.yaml is a deck file (a top-level `deck:` or `topics:`) whose `topics`, if any, are
not topics themselves: a single-file bank may be named deck.yaml too. A topic file outside
any folder bank is not a bank and is left alone.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

# A key in column 0 is a key of the root mapping: block scalars and nested keys are indented.
_BANK_KEY = re.compile(r"""^\ufeff?(?:deck|topics|"deck"|"topics"|'deck'|'topics')[ \t]*:""", re.M)
_DECK_FILE = "deck.yaml"


def is_bank(path: Path) -> bool:
    """Whether ``path`` looks like a deckgen bank: a root mapping with `deck` or `topics`."""
    text = _read(path)
    return text is None or _BANK_KEY.search(text) is not None


def folder_bank(path: Path) -> Path | None:
    """The folder bank that ``path`` is part of (itself, when ``path`` is a folder bank's
    deck.yaml), or ``None``."""
    for folder in path.parents:
        deck = folder / _DECK_FILE
        if deck.is_file() and _is_deck_file(deck):
            inside = path.relative_to(folder).parts
            return None if any(part.startswith(".") for part in inside) else folder
    return None


def banks_among(files: list[str]) -> list[str]:
    """The banks to validate for these staged files, each once, in the order first met."""
    banks: dict[str, None] = {}
    for name in files:
        path = Path(name)
        folder = folder_bank(path)
        if folder is not None:
            banks[str(folder)] = None
        elif is_bank(path):
            banks[name] = None
    return list(banks)


def main(argv: list[str] | None = None) -> None:
    """Run `deckgen validate` on the banks among the given files; exit 0 when there are none."""
    files = sys.argv[1:] if argv is None else argv
    banks = banks_among(files)
    if banks:
        from deckgen.cli import main as cli

        cli(["validate", *banks], prog_name="deckgen")


def _read(path: Path) -> str | None:
    try:
        return path.read_bytes().decode("utf-8", errors="replace")
    except OSError:
        return None  # validate reports a file it cannot read, where skipping would hide it


def _is_deck_file(path: Path) -> bool:
    """Whether a deck.yaml is a folder bank's deck file rather than a bank in one file."""
    text = _read(path)
    if text is None:
        return True
    return _BANK_KEY.search(text) is not None and not _has_inline_topics(text)


def _has_inline_topics(text: str) -> bool:
    """Whether the root `topics` of ``text`` is a list of mappings (topics written in the
    file), read from the parser's events, which stop as soon as that is known."""
    import yaml

    depth = 0
    expect_key = True
    key: str | None = None
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        events = yaml.parse(text, Loader=loader)
        for event in events:
            if depth == 1 and isinstance(event, yaml.NodeEvent):  # a key or value of the root
                if expect_key:
                    key = event.value if isinstance(event, yaml.ScalarEvent) else None
                elif key == "topics":
                    if not isinstance(event, yaml.SequenceStartEvent):
                        return False
                    return isinstance(next(events), yaml.MappingStartEvent)
                expect_key = not expect_key
            if isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
                depth += 1
            elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
                depth -= 1
            elif isinstance(event, yaml.DocumentEndEvent):
                break
    except (yaml.YAMLError, RecursionError):
        pass  # a broken deck.yaml: validating the folder reports it
    return False


if __name__ == "__main__":
    main()
