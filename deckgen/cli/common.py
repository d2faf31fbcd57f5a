"""What the commands share: path types, the one error boundary, and how results are said.

This is the one place where errors become messages and exit codes (see error_boundary): 1 for
an invalid source or a failed build, 2 for a usage error (click's own, and paths a command
must not write).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from deckgen.build import BuildResult

SourcePath = click.Path(exists=True, dir_okay=False, path_type=Path)

# The options of every command that builds a package: build, push and watch.
output_option = click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Where to write the .apkg  [default: dist/<deck-name>.apkg]",
)
lock_option = click.option(
    "--lock",
    "lock_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The lock file  [default: SOURCE with the suffix .lock, or deck.lock in a folder]",
)
allow_note_type_change_option = click.option(
    "--allow-note-type-change",
    is_flag=True,
    help="Build even though the note type's fields or templates changed.",
)


class _BankPath(click.Path):
    """A bank: one YAML file, or a folder with deck.yaml and one topic per other .yaml file.
    Any other folder is a usage error."""

    def convert(
        self,
        value: str | os.PathLike[str],
        param: click.Parameter | None,
        ctx: click.Context | None,
    ) -> str | bytes | os.PathLike[str]:
        path = Path(os.fsdecode(super().convert(value, param, ctx)))
        deck = path / "deck.yaml"
        if path.is_dir() and not (deck.exists() or deck.is_symlink()):
            self.fail(
                f"{click.format_filename(path)!r} is a directory without deck.yaml: a bank is "
                "a YAML file, or a folder with deck.yaml and one topic per other .yaml file",
                param,
                ctx,
            )
        return path


BankPath = _BankPath(exists=True, path_type=Path)


def report_build(result: BuildResult) -> None:
    """Say what a build wrote, and warn about questions that left the source."""
    from deckgen.errors import shown_path

    deck, release = result.deck, result.release
    retired = f", {deck.retired_count} retired" if deck.retired_count else ""
    echo(
        f"Wrote {shown_path(result.path)}: {count(deck.question_count, 'note')}{retired}, "
        f"{count(result.cards, 'card')}, {count(len(deck.topics), 'topic')}, "
        f"{size(result.size)}",
        fg="green",
    )
    if result.migrated_from is not None:
        click.echo(
            f"Migrated {shown_path(result.lock_path)} from version {result.migrated_from}: "
            "every note kept its modification time"
        )
    if result.lock_written:
        changes = [
            f"{len(ids)} {label}"
            for label, ids in (("added", release.added), ("changed", release.changed))
            if ids
        ]
        if release.style_changed or release.structure_changed:
            changes.append("note type changed")
        click.echo(
            f"Updated {shown_path(result.lock_path)}"
            + (f": {', '.join(changes)}" if changes else "")
        )
    if release.removed:
        echo(
            f"Warning: {count(len(release.removed), 'question')} left the source: "
            f"{', '.join(release.removed)}. Anki cannot delete notes, so users who imported an "
            "earlier release keep these cards. To retire a question on purpose, keep it in the "
            "source with 'retired: true'.",
            err=True,
            fg="yellow",
        )


@contextmanager
def error_boundary(*, nothing_written: bool = False) -> Iterator[None]:
    """Turn deckgen's errors into messages and exit 1: every located problem on its own
    line, then one 'Error: ...' line."""
    from deckgen.errors import DeckgenError, PathError, SourceError

    try:
        yield
    except PathError as e:
        raise click.UsageError(f"{e}; nothing was written") from e
    except SourceError as e:
        click.echo(str(e), err=True)
        tail = "; nothing was written" if nothing_written else ""
        raise click.ClickException(f"{count(len(e.problems), 'problem')} found{tail}") from e
    except DeckgenError as e:
        raise click.ClickException(str(e)) from e


class ProgressBar:
    """A progress bar on stderr, shown only on a terminal and only for large builds."""

    MIN_QUESTIONS = 5_000

    def __init__(self) -> None:
        self.bar: click._termui_impl.ProgressBar[int] | None = None
        self.done = 0

    def __call__(self, done: int, total: int) -> None:
        if total < self.MIN_QUESTIONS or not sys.stderr.isatty():
            return
        if self.bar is None:
            self.bar = click.progressbar(
                length=total, label="Rendering", file=sys.stderr, color=color()
            )
        self.bar.update(done - self.done)
        self.done = done
        if done == total:
            self.bar.render_finish()


def color() -> bool | None:
    """No colour when NO_COLOR is set; otherwise click's rule: only on a terminal."""
    return False if os.environ.get("NO_COLOR") else None


def echo(message: str, *, err: bool = False, fg: str | None = None) -> None:
    click.echo(click.style(message, fg=fg) if fg else message, err=err, color=color())


def count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def size(size: int) -> str:
    return f"{size} bytes" if size < 1024 else f"{size / 1024:.1f} KiB"
