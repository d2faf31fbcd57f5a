"""Commands that write new files: init, new, split, join."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from deckgen.cli.common import SourcePath, count, echo, error_boundary

if TYPE_CHECKING:
    from deckgen.split import Layout


@click.command()
@click.argument("path", type=click.Path(path_type=Path), required=False)
@click.option(
    "--folder",
    is_flag=True,
    help="Write a bank in many files: PATH is a folder with deck.yaml and a file per topic.",
)
def init(path: Path | None, folder: bool) -> None:
    """Write a starter question bank to PATH (default: questions.yaml, or the folder
    questions with --folder).

    The bank has a freshly drawn deck id and two example topics, and validates and builds as
    it is. The JSON Schema is written beside it as deckgen.schema.json when missing, for
    editors (in a folder bank, one schema for deck.yaml and one for topic files). An
    existing file is never overwritten.

    Example:

        deckgen init decks/python.yaml

        deckgen init --folder decks/python
    """
    from deckgen.errors import shown_path
    from deckgen.fileio import write_new_file
    from deckgen.schema import SCHEMA_FILE, json_schema
    from deckgen.starter import starter_bank, starter_folder

    path = path or Path("questions" if folder else "questions.yaml")
    if not folder and path.is_dir():
        raise click.BadParameter(f"{shown_path(path)} is a folder; did you mean --folder?")
    with error_boundary():
        if folder:
            _write_new_files(path, starter_folder(name=shown_path(path.name)))
        else:
            write_new_file(path, starter_bank(name=shown_path(path.name)))
            schema_path = path.parent / SCHEMA_FILE
            if not schema_path.exists():
                write_new_file(schema_path, json.dumps(json_schema(), indent=2) + "\n")
    shown = shown_path(path)
    echo(f"Wrote {shown}: check it with 'deckgen validate {shown}'", fg="green")


def _write_new_files(folder: Path, files: dict[str, str]) -> None:
    """Write every file into ``folder``, or none when any of them exists already."""
    from deckgen.errors import BuildError
    from deckgen.fileio import write_new_file

    existing = [name for name in files if (folder / name).exists()]
    if existing:
        raise BuildError(f"{folder / existing[0]} already exists; nothing was written")
    for name, text in files.items():
        write_new_file(folder / name, text)


@click.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--name", "deck_name", help="The deck's name  [default: from DIRECTORY's name]")
@click.option(
    "--folder",
    is_flag=True,
    help="Keep the bank in many files: the folder questions/, with deck.yaml and a file per topic.",
)
def new(directory: Path, deck_name: str | None, folder: bool) -> None:
    """Create a deck repository in DIRECTORY, ready to push to GitHub.

    It holds a starter bank, questions.yaml (or with --folder, the folder questions/), with
    a fresh deck id and its lock; a README for the deck's users; .gitignore; a pre-commit
    config with deckgen's hook; and CI and release workflows that use deckgen's GitHub
    Action. DIRECTORY may exist (an empty clone, say), but if any of these files is already
    there, nothing is written.

    Example:

        deckgen new python-deck --name "Python Interview Questions"

        deckgen new --folder rust-deck
    """
    from deckgen.build import release_time
    from deckgen.newrepo import new_repository

    with error_boundary(nothing_written=True):
        created = new_repository(directory, deck_name=deck_name, now=release_time(), folder=folder)
    echo(
        f"Created {directory}: {created.deck.name}, {len(created.files)} files",
        fg="green",
    )
    for name in created.files:
        click.echo(f"  {name}")
    click.echo(
        f"Next: edit {directory / created.bank}, check it with 'deckgen validate', then "
        "commit everything and push it to GitHub. Pushing a tag v* publishes a release."
    )


@click.command()
@click.argument("bank", type=SourcePath)
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
def split(bank: Path, folder: Path) -> None:
    """Turn the bank file BANK into a bank in many files, in FOLDER.

    FOLDER (new, or empty) gets deck.yaml, one file per topic named after its tag, BANK's
    lock as deck.lock, and copies of the images and sounds the cards use. The text is cut,
    not rewritten, so every note keeps its GUID and modification time: a build of FOLDER
    imports into Anki as no change. BANK is left as it was; remove it once FOLDER is
    committed.

    Example:

        deckgen split questions.yaml questions && git rm questions.yaml questions.lock
    """
    from deckgen.split import split_bank

    with error_boundary():
        layout = split_bank(bank, folder)
    _report_layout(layout, f"{layout.topics} topic files and deck.yaml")


@click.command()
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("bank", type=click.Path(dir_okay=False, path_type=Path))
def join(folder: Path, bank: Path) -> None:
    """Turn the bank in many files FOLDER into one bank file, BANK.

    The topic files are indented, in order, into deck.yaml's text; the lock (deck.lock)
    goes beside BANK, with BANK's name and the suffix .lock, and the images and sounds the
    cards use are copied beside it. Every note keeps its GUID and modification time.
    Nothing is overwritten. FOLDER is left as it was.

    Example:

        deckgen join questions questions.yaml
    """
    from deckgen.split import join_bank

    with error_boundary():
        layout = join_bank(folder, bank)
    _report_layout(layout, f"{layout.topics} topics")


def _report_layout(layout: Layout, what: str) -> None:
    from deckgen.errors import shown_path

    echo(f"Wrote {shown_path(layout.bank)}: {what}", fg="green")
    if layout.lock is not None:
        click.echo(f"Wrote {shown_path(layout.lock)}: every note keeps its modification time")
    if layout.media:
        click.echo(f"Copied {count(len(layout.media), 'media file')}")
