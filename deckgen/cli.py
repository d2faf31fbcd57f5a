"""The ``deckgen`` command line: checks its arguments and calls plain functions.

Everything heavy (PyYAML, genanki, Markdown, Pygments) is imported inside the commands, so
``deckgen --help`` starts fast. This is the one place where errors become messages and exit
codes (see _error_boundary): 1 for an invalid source or a failed build, 2 for a usage error
(click's own).
"""

from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from deckgen import DISTRIBUTION

if TYPE_CHECKING:
    from deckgen.build import BuildResult
    from deckgen.split import Layout

SourcePath = click.Path(exists=True, dir_okay=False, path_type=Path)


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


def run() -> None:
    """The ``deckgen`` program: :func:`main` with SIGTERM (a CI cancel, ``timeout``,
    ``docker stop``) turned into an exit that runs the same clean-up as Ctrl-C, so that an
    interrupted build leaves the old package and lock and no temporary file."""
    signal.signal(signal.SIGTERM, _terminate)
    if hasattr(signal, "SIGHUP"):
        signal.signal(signal.SIGHUP, _terminate)
    main(prog_name="deckgen")


def _terminate(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name=DISTRIBUTION)
def main() -> None:
    """Keep flashcard decks as code: validate a YAML question bank and build an Anki deck."""


@main.command()
@click.argument("sources", nargs=-1, required=True, type=BankPath)
@click.option(
    "--format",
    "style",
    type=click.Choice(["text", "json", "github"]),
    default="text",
    show_default=True,
    help="text: FILE:LINE:COL lines for people; json: one document for tools; "
    "github: annotations for GitHub Actions.",
)
def validate(sources: tuple[Path, ...], style: str) -> None:
    """Check question banks and report every problem, each at its line.

    A SOURCE is a bank file, or a folder bank (deck.yaml and one topic per other .yaml
    file). Exits 0 when every SOURCE is valid, 1 when any has a problem. The text format prints
    problems on stderr as FILE:LINE:COL: message and a summary of each valid file on stdout;
    json and github print only the problems, on stdout.

    Example:

        deckgen validate questions.yaml

        deckgen validate --format github decks/*.yaml

        deckgen validate python-deck/
    """
    from deckgen.checker import load_deck
    from deckgen.errors import DeckgenError, Problem, SourceError, shown_path
    from deckgen.report import format_problems

    problems: list[Problem] = []
    for source in sources:
        try:
            deck = load_deck(source, name=shown_path(source))
        except SourceError as e:
            problems += e.problems
            if style == "text":
                click.echo(format_problems(e.problems, style=style), err=True)
        except DeckgenError as e:
            raise click.ClickException(str(e)) from e
        else:
            if style == "text":
                _echo(
                    f"{shown_path(source)}: valid, {_count(deck.question_count, 'question')} "
                    f"in {_count(len(deck.topics), 'topic')}",
                    fg="green",
                )
    if style == "json" or (style == "github" and problems):
        click.echo(format_problems(problems, style=style))
    if problems:
        if style == "text":
            raise click.ClickException(f"{_count(len(problems), 'problem')} found")
        sys.exit(1)


@main.command()
@click.argument("source", type=BankPath)
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
    help="The lock file  [default: SOURCE with the suffix .lock, or deck.lock in a folder]",
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
@click.option(
    "--no-cache",
    is_flag=True,
    help="Render every note, without the render cache (also: DECKGEN_NO_CACHE=1).",
)
def build(
    source: Path,
    output: Path | None,
    lock_path: Path | None,
    locked: bool,
    allow_note_type_change: bool,
    no_cache: bool,
) -> None:
    """Validate SOURCE and build it into an Anki package (.apkg).

    SOURCE is a bank file or a folder bank. Nothing is written when SOURCE has a problem;
    an existing output file is replaced only by a complete new one. The lock beside SOURCE
    (in a folder bank, deck.lock) keeps every unchanged note's modification time, so
    importing the new release updates only the notes that changed. Changed and new notes get
    SOURCE_DATE_EPOCH when it is set, otherwise the current time.

    Example:

        deckgen build questions.yaml -o dist/fastapi.apkg

        SOURCE_DATE_EPOCH=$(git log -1 --format=%ct) deckgen build --locked questions.yaml
    """
    from deckgen import build as builder
    from deckgen.errors import shown_path

    with _error_boundary(nothing_written=True):
        result = builder.build(
            source,
            output=output,
            name=shown_path(source),
            lock_path=lock_path,
            locked=locked,
            allow_note_type_change=allow_note_type_change,
            now=builder.release_time(),
            progress=_ProgressBar(),
            cache=not no_cache,
        )
    _report_build(result)


def _report_build(result: BuildResult) -> None:
    """Say what a build wrote, and warn about questions that left the source."""
    from deckgen.errors import shown_path

    deck, release = result.deck, result.release
    retired = f", {deck.retired_count} retired" if deck.retired_count else ""
    _echo(
        f"Wrote {shown_path(result.path)}: {_count(deck.question_count, 'note')}{retired}, "
        f"{_count(result.cards, 'card')}, {_count(len(deck.topics), 'topic')}, "
        f"{_size(result.size)}",
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
        _echo(
            f"Warning: {_count(len(release.removed), 'question')} left the source: "
            f"{', '.join(release.removed)}. Anki cannot delete notes, so users who imported an "
            "earlier release keep these cards. To retire a question on purpose, keep it in the "
            "source with 'retired: true'.",
            err=True,
            fg="yellow",
        )


@main.command()
@click.argument("old", type=BankPath)
@click.argument("new", type=BankPath)
def diff(old: Path, new: Path) -> None:
    """Print release notes in Markdown for going from OLD to NEW.

    Each of OLD and NEW is an .apkg, a bank file or a folder bank. The notes list the
    questions added, changed (with the fields that changed), retired and removed, and say
    whether users must import with "Merge note types".

    Example:

        deckgen diff previous-release.apkg questions.yaml > RELEASE_NOTES.md
    """
    from deckgen.diff import load_snapshot, release_notes

    with _error_boundary():
        snapshots = [load_snapshot(path) for path in (old, new)]
    click.echo(release_notes(*snapshots), nl=False)


@main.command()
@click.option(
    "--for",
    "kind",
    type=click.Choice(["bank", "deck", "topic"]),
    default="bank",
    show_default=True,
    help="bank: a bank in one file; deck: a folder bank's deck.yaml; topic: one of its "
    "topic files.",
)
def schema(kind: str) -> None:
    """Print the JSON Schema of the question bank format.

    Editors with a YAML language server complete and check keys with it when the bank's
    first line names it. A bank in one file, a folder bank's deck.yaml and its topic files
    each have their own schema. The schema checks shape and types; `deckgen validate`
    checks everything.

    Example:

        deckgen schema > deckgen.schema.json

        deckgen schema --for topic > deckgen-topic.schema.json
    """
    from deckgen.schema import json_schema

    click.echo(json.dumps(json_schema(kind), indent=2))


@main.command()
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
    with _error_boundary():
        if folder:
            _write_new_files(path, starter_folder(name=shown_path(path.name)))
        else:
            write_new_file(path, starter_bank(name=shown_path(path.name)))
            schema_path = path.parent / SCHEMA_FILE
            if not schema_path.exists():
                write_new_file(schema_path, json.dumps(json_schema(), indent=2) + "\n")
    shown = shown_path(path)
    _echo(f"Wrote {shown}: check it with 'deckgen validate {shown}'", fg="green")


def _write_new_files(folder: Path, files: dict[str, str]) -> None:
    """Write every file into ``folder``, or none when any of them exists already."""
    from deckgen.errors import BuildError
    from deckgen.fileio import write_new_file

    existing = [name for name in files if (folder / name).exists()]
    if existing:
        raise BuildError(f"{folder / existing[0]} already exists; nothing was written")
    for name, text in files.items():
        write_new_file(folder / name, text)


@main.command()
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

    with _error_boundary(nothing_written=True):
        created = new_repository(directory, deck_name=deck_name, now=release_time(), folder=folder)
    _echo(
        f"Created {directory}: {created.deck.name}, {len(created.files)} files",
        fg="green",
    )
    for name in created.files:
        click.echo(f"  {name}")
    click.echo(
        f"Next: edit {directory / created.bank}, check it with 'deckgen validate', then "
        "commit everything and push it to GitHub. Pushing a tag v* publishes a release."
    )


@main.command()
@click.argument("source", type=BankPath)
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
def stats(source: Path, as_json: bool) -> None:
    """Count a bank's notes, cards, questions per topic and tags.

    Example:

        deckgen stats questions.yaml --json
    """
    from deckgen.checker import load_deck
    from deckgen.errors import shown_path
    from deckgen.stats import deck_stats, format_stats

    with _error_boundary():
        counts = deck_stats(load_deck(source, name=shown_path(source)))
    click.echo(
        json.dumps(counts, indent=2, ensure_ascii=False) if as_json else format_stats(counts)
    )


@main.command()
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

    with _error_boundary():
        layout = split_bank(bank, folder)
    _report_layout(layout, f"{layout.topics} topic files and deck.yaml")


@main.command()
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

    with _error_boundary():
        layout = join_bank(folder, bank)
    _report_layout(layout, f"{layout.topics} topics")


def _report_layout(layout: Layout, what: str) -> None:
    from deckgen.errors import shown_path

    _echo(f"Wrote {shown_path(layout.bank)}: {what}", fg="green")
    if layout.lock is not None:
        click.echo(f"Wrote {shown_path(layout.lock)}: every note keeps its modification time")
    if layout.media:
        click.echo(f"Copied {_count(len(layout.media), 'media file')}")


@main.command()
@click.argument("source", type=BankPath)
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
    help="The lock file  [default: SOURCE with the suffix .lock, or deck.lock in a folder]",
)
@click.option(
    "--allow-note-type-change",
    is_flag=True,
    help="Build even though the note type's fields or templates changed.",
)
@click.option(
    "--url",
    default="http://127.0.0.1:8765",
    show_default=True,
    callback=lambda _ctx, _param, value: _check_url(value),
    help="Where AnkiConnect listens.",
)
@click.option(
    "--api-key",
    envvar="DECKGEN_ANKICONNECT_KEY",
    show_envvar=True,
    help="The apiKey set in AnkiConnect's config, if any.",
)
@click.option("--sync", is_flag=True, help="Ask Anki to sync with AnkiWeb after the import.")
def push(
    source: Path,
    output: Path | None,
    lock_path: Path | None,
    allow_note_type_change: bool,
    url: str,
    api_key: str | None,
    sync: bool,
) -> None:
    """Build SOURCE and import it into a running Anki through AnkiConnect.

    Anki must be open, with the AnkiConnect add-on (code 2055492159). deckgen checks that
    first, so nothing is built when Anki cannot import. The build is `deckgen build`'s, lock
    included; the import is Anki's own, as File > Import does it: unchanged notes are left
    alone and study progress is kept.

    Example:

        deckgen push questions.yaml

        deckgen push questions.yaml --sync --api-key "$KEY"
    """
    from deckgen import build as builder
    from deckgen.ankiconnect import AnkiConnect
    from deckgen.push import push as push_release

    with _error_boundary(nothing_written=True):
        pushed = push_release(
            source,
            client=AnkiConnect(url, key=api_key or None),
            output=output,
            name=str(source),
            lock_path=lock_path,
            allow_note_type_change=allow_note_type_change,
            sync=sync,
            now=builder.release_time(),
            progress=_ProgressBar(),
        )
    _report_build(pushed.build)
    deck = pushed.build.deck
    _echo(f"Imported {pushed.package} into Anki, deck {deck.name}", fg="green")
    if pushed.synced:
        click.echo("Asked Anki to sync with AnkiWeb")


@main.command()
@click.argument("source", type=BankPath)
@click.option(
    "-o",
    "--output",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    help="The folder to write index.html and the media to  [default: dist/preview]",
)
@click.option("--serve", is_flag=True, help="Serve the preview and reload it on every save.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=0,
    help="The port --serve listens on, on 127.0.0.1  [default: a free one]",
)
def preview(source: Path, folder: Path | None, serve: bool, port: int) -> None:
    """Write an HTML page that shows every card of SOURCE, front and back, as Anki does.

    The cards have the HTML and CSS the package holds, with the card templates applied as
    Anki applies them; list them by topic, search them, and switch between light and night
    mode and between phone and desktop width. The page needs no network. When SOURCE has
    problems, they are listed at the top and the cards of the other questions still show
    (the command then exits 1). With --serve, the page is served on 127.0.0.1 and reloads
    on every save of SOURCE, until Ctrl-C.

    Example:

        deckgen preview questions.yaml -o dist/preview

        deckgen preview questions.yaml --serve
    """
    from deckgen.errors import shown_path
    from deckgen.preview import DEFAULT_FOLDER, make_preview

    folder = DEFAULT_FOLDER if folder is None else folder
    if port and not serve:
        raise click.UsageError("--port needs --serve")
    if serve:
        from deckgen.preview.serve import serve_preview

        try:
            with _error_boundary():
                serve_preview(source, folder, name=shown_path(source), port=port, say=_say)
        except KeyboardInterrupt:
            click.echo("Stopped serving")
        return
    with _error_boundary():
        made = make_preview(source, folder, name=shown_path(source))
    _echo(
        f"Wrote {shown_path(made.path)}: {_count(made.cards, 'card')} of "
        f"{_count(made.notes, 'note')}",
        fg="green",
    )
    if made.problems:
        click.echo("\n".join(map(str, made.problems)), err=True)
        raise click.ClickException(
            f"{_count(len(made.problems), 'problem')} found; the preview shows them, and the "
            "cards of the questions without one"
        )


@main.command()
@click.argument("source", type=BankPath)
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
    "--preview",
    "preview_folder",
    type=click.Path(file_okay=False, path_type=Path),
    help="Also keep an HTML preview (see 'deckgen preview') up to date in this folder.",
)
def watch(
    source: Path, output: Path | None, lock_path: Path | None, preview_folder: Path | None
) -> None:
    """Check SOURCE on every save and rebuild its package, until Ctrl-C.

    Problems are printed as they appear and as they are fixed. While SOURCE has problems,
    the package and lock on disk stay those of the last valid version: a build replaces
    them whole or not at all. Saves in quick succession make one rebuild.

    Example:

        deckgen watch questions.yaml -o dist/deck.apkg --preview dist/preview
    """
    from deckgen.errors import shown_path
    from deckgen.watch import Watcher

    shown = shown_path(source)
    watcher = Watcher(
        source, say=_say, name=shown, output=output, lock_path=lock_path, preview=preview_folder
    )
    click.echo(f"Watching {shown} (Ctrl-C stops)")
    try:
        with _error_boundary():
            watcher.run()
    except KeyboardInterrupt:
        click.echo("Stopped watching")


def _say(message: str, style: str) -> None:
    """How a watch's messages look: problems on stderr, as validate prints them."""
    if style == "problem":
        _echo(message, err=True, fg="red")
    elif style == "warn":
        _echo(message, err=True, fg="yellow")
    else:
        _echo(message, fg="green" if style == "good" else None)


def _check_url(value: str) -> str:
    from deckgen.ankiconnect import check_url

    try:
        return check_url(value)
    except ValueError as e:
        raise click.BadParameter(str(e)) from None


@contextmanager
def _error_boundary(*, nothing_written: bool = False) -> Iterator[None]:
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
        raise click.ClickException(f"{_count(len(e.problems), 'problem')} found{tail}") from e
    except DeckgenError as e:
        raise click.ClickException(str(e)) from e


class _ProgressBar:
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
                length=total, label="Rendering", file=sys.stderr, color=_color()
            )
        self.bar.update(done - self.done)
        self.done = done
        if done == total:
            self.bar.render_finish()


def _color() -> bool | None:
    """No colour when NO_COLOR is set; otherwise click's rule: only on a terminal."""
    return False if os.environ.get("NO_COLOR") else None


def _echo(message: str, *, err: bool = False, fg: str | None = None) -> None:
    click.echo(click.style(message, fg=fg) if fg else message, err=err, color=_color())


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _size(size: int) -> str:
    return f"{size} bytes" if size < 1024 else f"{size / 1024:.1f} KiB"
