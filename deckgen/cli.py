"""The ``deckgen`` command line: checks its arguments and calls plain functions.

Everything heavy (PyYAML, genanki, Markdown, Pygments) is imported inside the commands, so
``deckgen --help`` starts fast. This is the one place where errors become messages and exit
codes: 1 for an invalid source or a failed build, 2 for a usage error (click's own).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import click

SourcePath = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="deckgen")
def main() -> None:
    """Keep flashcard decks as code: validate a YAML question bank and build an Anki deck."""


@main.command()
@click.argument("sources", nargs=-1, required=True, type=SourcePath)
def validate(sources: tuple[Path, ...]) -> None:
    """Check question banks and report every problem as FILE:LINE:COL: message.

    Exits 0 when every SOURCE is valid, 1 when any has a problem.

    Example:

        deckgen validate questions.yaml
    """
    from deckgen.errors import DeckgenError, SourceError
    from deckgen.model import load_deck

    problems = 0
    for source in sources:
        try:
            deck = load_deck(source, name=str(source))
        except SourceError as e:
            problems += len(e.problems)
            click.echo(str(e), err=True)
        except DeckgenError as e:
            raise click.ClickException(str(e)) from e
        else:
            click.echo(
                f"{source}: valid, {_count(deck.question_count, 'question')} "
                f"in {_count(len(deck.topics), 'topic')}"
            )
    if problems:
        raise click.ClickException(f"{_count(problems, 'problem')} found")


@main.command()
@click.argument("source", type=SourcePath)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Where to write the .apkg  [default: dist/<deck-name>.apkg]",
)
def build(source: Path, output: Path | None) -> None:
    """Validate SOURCE and build it into an Anki package (.apkg).

    Nothing is written when SOURCE has a problem; an existing output file is replaced only
    by a complete new one. Every note's modification time is SOURCE_DATE_EPOCH when that is
    set, otherwise the current time.

    Example:

        deckgen build questions.yaml -o dist/fastapi.apkg
    """
    from deckgen.errors import DeckgenError, SourceError
    from deckgen.model import load_deck, slugify

    try:
        deck = load_deck(source, name=str(source))
        out = output or Path("dist") / f"{slugify(deck.name) or 'deck'}.apkg"
        from deckgen.package import build_package

        summary = build_package(deck, out, timestamp=_timestamp())
    except SourceError as e:
        click.echo(str(e), err=True)
        raise click.ClickException(
            f"{_count(len(e.problems), 'problem')} found; nothing was written"
        ) from e
    except DeckgenError as e:
        raise click.ClickException(str(e)) from e
    click.echo(
        f"Wrote {summary.path}: {_count(summary.notes, 'note')}, "
        f"{_count(summary.cards, 'card')}, {_count(summary.topics, 'topic')}, "
        f"{_size(summary.size)}"
    )


def _timestamp() -> float:
    """SOURCE_DATE_EPOCH (the reproducible-builds convention) if set, else now."""
    value = os.environ.get("SOURCE_DATE_EPOCH")
    if value is None:
        return time.time()
    try:
        return float(int(value))
    except ValueError:
        raise click.ClickException(
            f"SOURCE_DATE_EPOCH must be a whole number of seconds, not {value!r}"
        ) from None


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _size(size: int) -> str:
    return f"{size} bytes" if size < 1024 else f"{size / 1024:.1f} KiB"
