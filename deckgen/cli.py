"""The ``deckgen`` command line: checks its arguments and calls plain functions.

Everything heavy (PyYAML, genanki, Markdown, Pygments) is imported inside the commands, so
``deckgen --help`` starts fast. This is the one place where errors become messages and exit
codes: 1 for an invalid source or a failed build, 2 for a usage error (click's own).
"""

from __future__ import annotations

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
@click.option(
    "--lock",
    "lock_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The lock file  [default: SOURCE with the suffix .lock]",
)
@click.option(
    "--locked",
    is_flag=True,
    help="Use the lock as it is; fail if the source no longer matches it (for CI).",
)
@click.option(
    "--allow-note-type-change",
    is_flag=True,
    help="Build even though the note type's fields or templates changed.",
)
def build(
    source: Path,
    output: Path | None,
    lock_path: Path | None,
    locked: bool,
    allow_note_type_change: bool,
) -> None:
    """Validate SOURCE and build it into an Anki package (.apkg).

    Nothing is written when SOURCE has a problem; an existing output file is replaced only by
    a complete new one. The lock beside SOURCE keeps every unchanged note's modification
    time, so importing the new release updates only the notes that changed. Changed and new
    notes get SOURCE_DATE_EPOCH when it is set, otherwise the current time.

    Example:

        deckgen build questions.yaml -o dist/fastapi.apkg

        SOURCE_DATE_EPOCH=$(git log -1 --format=%ct) deckgen build --locked questions.yaml
    """
    from deckgen import build as builder
    from deckgen.errors import DeckgenError, SourceError

    try:
        result = builder.build(
            source,
            output=output,
            name=str(source),
            lock_path=lock_path,
            locked=locked,
            allow_note_type_change=allow_note_type_change,
            now=builder.release_time(),
        )
    except SourceError as e:
        click.echo(str(e), err=True)
        raise click.ClickException(
            f"{_count(len(e.problems), 'problem')} found; nothing was written"
        ) from e
    except DeckgenError as e:
        raise click.ClickException(str(e)) from e
    deck, release = result.deck, result.release
    retired = f", {deck.retired_count} retired" if deck.retired_count else ""
    click.echo(
        f"Wrote {result.path}: {_count(deck.question_count, 'note')}{retired}, "
        f"{_count(deck.question_count, 'card')}, {_count(len(deck.topics), 'topic')}, "
        f"{_size(result.size)}"
    )
    if result.lock_written:
        changes = [
            f"{len(ids)} {label}"
            for label, ids in (("added", release.added), ("changed", release.changed))
            if ids
        ]
        if release.style_changed or release.structure_changed:
            changes.append("note type changed")
        click.echo(f"Updated {result.lock_path}" + (f": {', '.join(changes)}" if changes else ""))
    if release.removed:
        click.echo(
            f"Warning: {_count(len(release.removed), 'question')} left the source: "
            f"{', '.join(release.removed)}. Anki cannot delete notes, so users who imported an "
            "earlier release keep these cards. To retire a question on purpose, keep it in the "
            "source with 'retired: true'.",
            err=True,
        )


@main.command()
@click.argument("old", type=SourcePath)
@click.argument("new", type=SourcePath)
def diff(old: Path, new: Path) -> None:
    """Print release notes in Markdown for going from OLD to NEW.

    Each of OLD and NEW is an .apkg or a source file. The notes list the questions added,
    changed (with the fields that changed), retired and removed, and say whether users
    must import with "Merge note types".

    Example:

        deckgen diff previous-release.apkg questions.yaml > RELEASE_NOTES.md
    """
    from deckgen.diff import load_snapshot, release_notes
    from deckgen.errors import DeckgenError, SourceError

    try:
        snapshots = [load_snapshot(path) for path in (old, new)]
    except SourceError as e:
        click.echo(str(e), err=True)
        raise click.ClickException(f"{_count(len(e.problems), 'problem')} found") from e
    except DeckgenError as e:
        raise click.ClickException(str(e)) from e
    click.echo(release_notes(*snapshots), nl=False)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _size(size: int) -> str:
    return f"{size} bytes" if size < 1024 else f"{size / 1024:.1f} KiB"
