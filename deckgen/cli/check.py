"""Commands that read a bank and report on it: validate, stats, schema."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from deckgen.cli.common import BankPath, count, echo, error_boundary


@click.command()
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
                echo(
                    f"{shown_path(source)}: valid, {count(deck.question_count, 'question')} "
                    f"in {count(len(deck.topics), 'topic')}",
                    fg="green",
                )
    if style == "json" or (style == "github" and problems):
        click.echo(format_problems(problems, style=style))
    if problems:
        if style == "text":
            raise click.ClickException(f"{count(len(problems), 'problem')} found")
        sys.exit(1)


@click.command()
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

    with error_boundary():
        counts = deck_stats(load_deck(source, name=shown_path(source)))
    click.echo(
        json.dumps(counts, indent=2, ensure_ascii=False) if as_json else format_stats(counts)
    )


@click.command()
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
