"""Commands that make or compare releases: build, push, diff."""

from __future__ import annotations

from pathlib import Path

import click

from deckgen.cli.common import (
    BankPath,
    ProgressBar,
    allow_note_type_change_option,
    echo,
    error_boundary,
    lock_option,
    output_option,
    report_build,
)


@click.command()
@click.argument("source", type=BankPath)
@output_option
@lock_option
@click.option(
    "--locked",
    is_flag=True,
    help="Use the lock as it is; fail if the source no longer matches it (for CI).",
)
@allow_note_type_change_option
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
    from deckgen.statefiles import Prefetch

    # The last build's state is read while the modules that use it are imported.
    early = None if no_cache else Prefetch.start(source)

    from deckgen import build as builder
    from deckgen.buildstate import StateHolder
    from deckgen.errors import shown_path

    with error_boundary(nothing_written=True):
        result = builder.build(
            source,
            output=output,
            name=shown_path(source),
            lock_path=lock_path,
            locked=locked,
            allow_note_type_change=allow_note_type_change,
            now=builder.release_time(),
            progress=ProgressBar(),
            cache=not no_cache,
            state=StateHolder(prefetched=early),
        )
    report_build(result)


@click.command()
@click.argument("source", type=BankPath)
@output_option
@lock_option
@allow_note_type_change_option
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

    with error_boundary(nothing_written=True):
        pushed = push_release(
            source,
            client=AnkiConnect(url, key=api_key or None),
            output=output,
            name=str(source),
            lock_path=lock_path,
            allow_note_type_change=allow_note_type_change,
            sync=sync,
            now=builder.release_time(),
            progress=ProgressBar(),
        )
    report_build(pushed.build)
    deck = pushed.build.deck
    echo(f"Imported {pushed.package} into Anki, deck {deck.name}", fg="green")
    if pushed.synced:
        click.echo("Asked Anki to sync with AnkiWeb")


def _check_url(value: str) -> str:
    from deckgen.ankiconnect import check_url

    try:
        return check_url(value)
    except ValueError as e:
        raise click.BadParameter(str(e)) from None


@click.command()
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

    with error_boundary():
        snapshots = [load_snapshot(path) for path in (old, new)]
    click.echo(release_notes(*snapshots), nl=False)
