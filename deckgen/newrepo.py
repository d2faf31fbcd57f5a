"""`deckgen new`: a deck repository a maintainer can push as it is.

A starter bank with a fresh deck id and its lock (built once), in one file or, with
``folder``, in a folder (deck.yaml and a file per topic); the JSON Schema for editors; a README
for the deck's users, .gitignore, a pre-commit config with deckgen's hook, and CI and release
workflows that call deckgen's GitHub Action. The text files are templates shipped in
deckgen/templates/, with @NAME@ placeholders.
"""

from __future__ import annotations

import json
import re
import tempfile
from dataclasses import dataclass
from importlib import metadata, resources
from pathlib import Path

from deckgen import DISTRIBUTION, REPOSITORY
from deckgen.build import build
from deckgen.errors import BuildError
from deckgen.fileio import write_new_file
from deckgen.folder import LOCK_NAME
from deckgen.model import Deck
from deckgen.schema import SCHEMA_FILE, json_schema
from deckgen.starter import starter_bank, starter_folder

BANK = "questions.yaml"
FOLDER = "questions"  # the bank of `deckgen new --folder`
# Path in the new repository -> template in deckgen/templates/ (no dot files in package data).
TEMPLATES = {
    "README.md": "README.md",
    ".gitignore": "gitignore",
    ".pre-commit-config.yaml": "pre-commit-config.yaml",
    ".github/workflows/ci.yml": "ci.yml",
    ".github/workflows/release.yml": "release.yml",
}
_PLACEHOLDER = re.compile(r"@([A-Z_]+)@")


@dataclass(frozen=True)
class NewRepository:
    """What `deckgen new` wrote: the files, relative to ``root``, and the starter deck."""

    root: Path
    files: tuple[str, ...]
    deck: Deck
    package: str
    bank: str = BANK  # the bank, relative to root: a file or a folder


def target_files(*, folder: bool = False) -> tuple[str, ...]:
    """Every file `deckgen new` writes, relative to the new repository."""
    if folder:
        bank = [f"{FOLDER}/{name}" for name in starter_folder(name=FOLDER)]
        return (*bank, f"{FOLDER}/{LOCK_NAME}", *TEMPLATES)
    return (BANK, Path(BANK).with_suffix(".lock").name, SCHEMA_FILE, *TEMPLATES)


def deck_name_for(root: Path) -> str:
    """A deck name from the folder's name: ``python-deck`` -> ``Python Deck``."""
    words = re.split(r"[-_.\s]+", root.resolve().name)
    name = " ".join(word[:1].upper() + word[1:] for word in words if word)
    return name or "My Deck"


def new_repository(
    root: Path, *, deck_name: str | None, now: int, folder: bool = False
) -> NewRepository:
    """Write a deck repository into ``root``, its bank in one file or, with ``folder``, in
    many; if any of its files exists, write nothing.

    The lock's notes get ``now`` as their modification time.
    """
    existing = [name for name in target_files(folder=folder) if (root / name).exists()]
    if existing:
        raise BuildError(
            f"{root} already has {', '.join(existing)}; nothing was written "
            "(deckgen new never overwrites a file)"
        )
    name = deck_name or deck_name_for(root)
    bank_name = FOLDER if folder else BANK
    files = starter_folder(name=FOLDER, deck_name=name) if folder else {}
    bank = "" if folder else starter_bank(name=BANK, deck_name=name)
    # Build once in a scratch folder: the lock comes from a real build, and an unusable deck
    # name is reported before anything is written.
    with tempfile.TemporaryDirectory(prefix="deckgen-new-") as scratch:
        source = Path(scratch) / bank_name
        if folder:
            for file, text in files.items():
                write_new_file(source / file, text)
        else:
            source.write_text(bank, encoding="utf-8")
        result = build(
            source, output=Path(scratch) / "deck.apkg", name=str(root / bank_name), now=now
        )
        lock = result.lock_path.read_text(encoding="utf-8")
    deck = result.deck
    package = f"{deck.slug}.apkg"
    values = {
        "DECK_NAME": deck.name,
        "SLUG": deck.slug,
        "PACKAGE": package,
        "REPOSITORY": REPOSITORY,
        "ACTION": REPOSITORY.removeprefix("https://github.com/"),
        "VERSION": metadata.version(DISTRIBUTION),
        **_bank_values(folder),
    }
    if folder:
        texts = {f"{FOLDER}/{file}": text for file, text in files.items()}
        texts[f"{FOLDER}/{LOCK_NAME}"] = lock
    else:
        texts = {
            BANK: bank,
            result.lock_path.name: lock,
            SCHEMA_FILE: json.dumps(json_schema(), indent=2) + "\n",
        }
    for target, template in TEMPLATES.items():
        texts[target] = fill(read_template(template), values)
    _write_all(root, texts)
    return NewRepository(root=root, files=tuple(texts), deck=deck, package=package, bank=bank_name)


def _bank_values(folder: bool) -> dict[str, str]:
    """How the templates name the bank, its lock, and what to commit."""
    if folder:
        return {
            "BANK": FOLDER,
            "BANK_LINK": f"[`{FOLDER}/`]({FOLDER})",
            "LOCK_LINK": f"[`{FOLDER}/{LOCK_NAME}`]({FOLDER}/{LOCK_NAME})",
            "COMMIT": FOLDER,
        }
    lock = Path(BANK).with_suffix(".lock").name
    return {
        "BANK": BANK,
        "BANK_LINK": f"[`{BANK}`]({BANK})",
        "LOCK_LINK": f"[`{lock}`]({lock})",
        "COMMIT": f"{BANK} {lock}",
    }


def read_template(name: str) -> str:
    """The text of ``name`` in deckgen/templates/."""
    return (resources.files("deckgen") / "templates" / name).read_text(encoding="utf-8")


def fill(template: str, values: dict[str, str]) -> str:
    """Replace each @NAME@ in ``template`` by ``values[NAME]``; every one must have a value."""
    return _PLACEHOLDER.sub(lambda match: values[match[1]], template)


def _write_all(root: Path, texts: dict[str, str]) -> None:
    """Write every file, each only if absent; on failure, remove the ones already written."""
    written: list[Path] = []
    try:
        for name, text in texts.items():
            write_new_file(root / name, text)
            written.append(root / name)
    except BuildError:
        for path in written:
            path.unlink(missing_ok=True)
        raise
