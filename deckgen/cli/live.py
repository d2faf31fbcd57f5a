"""Commands for the edit loop: preview (and its server) and watch."""

from __future__ import annotations

from pathlib import Path

import click

from deckgen.cli.common import BankPath, count, echo, error_boundary, lock_option, output_option


@click.command()
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
            with error_boundary():
                serve_preview(source, folder, name=shown_path(source), port=port, say=_say)
        except KeyboardInterrupt:
            click.echo("Stopped serving")
        return
    with error_boundary():
        made = make_preview(source, folder, name=shown_path(source))
    echo(
        f"Wrote {shown_path(made.path)}: {count(made.cards, 'card')} of "
        f"{count(made.notes, 'note')}",
        fg="green",
    )
    if made.problems:
        click.echo("\n".join(map(str, made.problems)), err=True)
        raise click.ClickException(
            f"{count(len(made.problems), 'problem')} found; the preview shows them, and the "
            "cards of the questions without one"
        )


@click.command()
@click.argument("source", type=BankPath)
@output_option
@lock_option
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
        with error_boundary():
            watcher.run()
    except KeyboardInterrupt:
        click.echo("Stopped watching")


def _say(message: str, style: str) -> None:
    """How a watch's messages look: problems on stderr, as validate prints them."""
    if style == "problem":
        echo(message, err=True, fg="red")
    elif style == "warn":
        echo(message, err=True, fg="yellow")
    else:
        echo(message, fg="green" if style == "good" else None)
