"""Write a synthetic question bank of N questions in deckgen's format, the same for the same N.

    python bench/generate.py 10000 > bank.yaml
    python bench/generate.py 10000 --shape code > bank.yaml

Two shapes:

- ``today`` (the default): 100 questions per topic; every answer is a few hundred characters
  of Markdown with inline code, bold and a two-item list; one question in ten has a Python
  code block; every question has how_to_answer and example_answer.
- ``code``: a code-heavy bank. 50 questions per topic; answers of about 640 characters on
  average (two or three short paragraphs and a list); a fenced code block in one question of
  three, in eleven languages; a table in one of six; non-ASCII text (accents, Greek, Cyrillic,
  CJK, symbols, emoji) throughout; tags on one question of four. Almost every code block is
  different, as in a real bank. 100,000 questions make 123 MB, under deckgen's 128 MiB limit
  on a source file.
"""

from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Callable

# (Word lists as split strings: far easier to read and extend than one quoted word a line.)
WORDS = (  # noqa: SIM905
    "request response handler router schema model field value cache index query token "
    "session client server worker queue event stream buffer header cookie payload record "
    "object method function module package service endpoint resource version timeout"
).split()
# Non-ASCII words mixed into the code-heavy shape: what a multilingual or technical bank holds.
UNICODE_WORDS = (  # noqa: SIM905
    "naïve café Größe données façade señal über déjà-vu κλειδί λ-calculus ключ данные "
    "キャッシュ データ 缓存 索引 → ≤ ≥ µs ✓ 🚀 ∑"
).split()
LANGUAGES = (
    "python",
    "javascript",
    "typescript",
    "sql",
    "bash",
    "rust",
    "go",
    "java",
    "c",
    "json",
    "yaml",
)


def sentence(rng: random.Random, words: int) -> str:
    text = " ".join(rng.choice(WORDS) for _ in range(words))
    return text[0].upper() + text[1:] + "."


def block(text: str, indent: int = 10) -> str:
    pad = " " * indent
    return "\n".join(pad + line if line else "" for line in text.splitlines())


def question(rng: random.Random, n: int) -> str:
    """One question of the ``today`` shape (kept as it was, so old figures stay comparable)."""
    answer = (
        f"{sentence(rng, 12)} Use `{rng.choice(WORDS)}_{n}()` with **{rng.choice(WORDS)}** "
        f"to {sentence(rng, 8).lower()}\n\n"
        f"- {sentence(rng, 7)}\n- {sentence(rng, 7)}\n\n{sentence(rng, 14)}"
    )
    if n % 10 == 0:
        name = rng.choice(WORDS)
        answer += (
            f"\n\n```python\ndef {name}_{n}(x: int) -> int:\n"
            f'    """{sentence(rng, 4)}"""\n    return x * {n % 97} + len("{name}")\n```'
        )
    return (
        f"      - id: q-{n}\n"
        f"        question: What does {rng.choice(WORDS)} {n} do with {rng.choice(WORDS)}?\n"
        f"        answer: |\n{block(answer)}\n"
        f"        how_to_answer: |\n{block(sentence(rng, 16))}\n"
        f"        example_answer: |\n{block(sentence(rng, 30))}\n"
    )


# --- the code-heavy shape ------------------------------------------------------------------


def mixed(rng: random.Random, words: int) -> str:
    """A sentence with about one non-ASCII word in six."""
    pool = [rng.choice(UNICODE_WORDS if rng.random() < 0.17 else WORDS) for _ in range(words)]
    text = " ".join(pool)
    return text[0].upper() + text[1:] + "."


def paragraph(rng: random.Random, n: int) -> str:
    parts = [mixed(rng, rng.randint(8, 16)) for _ in range(rng.randint(1, 2))]
    # Inline Markdown in most paragraphs: code, emphasis, now and then a link.
    inline = rng.choice(
        (
            f"Call `{rng.choice(WORDS)}_{n}()` first.",
            f"The **{rng.choice(WORDS)}** is *never* shared.",
            f"See [the {rng.choice(WORDS)} docs](https://example.org/{rng.choice(WORDS)}/{n}).",
            f"Prefer `{rng.choice(WORDS)}.{rng.choice(WORDS)}` over ~~{rng.choice(WORDS)}~~.",
            "",
        )
    )
    return " ".join([*parts, inline]).strip()


def a_list(rng: random.Random) -> str:
    numbered = rng.random() < 0.3
    items = [mixed(rng, rng.randint(4, 10)) for _ in range(rng.randint(2, 4))]
    return "\n".join(f"{i}. {item}" if numbered else f"- {item}" for i, item in enumerate(items, 1))


def table(rng: random.Random) -> str:
    header = "| Name | Kind | Cost (µs) | Notes |\n| --- | :---: | ---: | --- |"
    rows = [
        f"| `{rng.choice(WORDS)}` | {rng.choice(WORDS)} | {rng.randint(1, 9999)} "
        f"| {mixed(rng, rng.randint(3, 7))} |"
        for _ in range(rng.randint(3, 6))
    ]
    return "\n".join([header, *rows])


def _python(rng: random.Random, n: int, name: str) -> str:
    body = [f"    {rng.choice(WORDS)} = {name}.get({rng.choice(WORDS)!r}, {i})" for i in range(3)]
    return "\n".join(
        [
            "from dataclasses import dataclass",
            "",
            "@dataclass(frozen=True)",
            f"class {name.title()}{n}:",
            f"    {rng.choice(WORDS)}: int = {n % 97}",
            "",
            f"def {name}_{n}({name}: dict[str, int]) -> list[int]:",
            f'    """{mixed(rng, 5)}"""',
            *body,
            f"    return [x * {n % 13} for x in range({rng.randint(2, 40)}) if x % 3]",
        ]
    )


def _javascript(rng: random.Random, n: int, name: str) -> str:
    return "\n".join(
        [
            f"export async function {name}{n}(url, {{ timeout = {n % 5000} }} = {{}}) {{",
            "  const controller = new AbortController();",
            "  const timer = setTimeout(() => controller.abort(), timeout);",
            "  try {",
            "    const res = await fetch(url, { signal: controller.signal });",
            f"    if (!res.ok) throw new Error(`{rng.choice(WORDS)} ${{res.status}}`);",
            f"    return (await res.json()).{rng.choice(WORDS)} ?? [];",
            "  } finally {",
            "    clearTimeout(timer);",
            "  }",
            "}",
        ]
    )


def _typescript(rng: random.Random, n: int, name: str) -> str:
    return "\n".join(
        [
            f"interface {name.title()}{n} {{",
            f"  {rng.choice(WORDS)}: string;",
            f"  {rng.choice(WORDS)}?: number[];",
            "}",
            "",
            f"const {name}{n} = <T extends {name.title()}{n}>(items: T[]): Map<string, T> =>",
            f"  new Map(items.map((item) => [item.{rng.choice(WORDS)} ?? '{n}', item]));",
        ]
    )


def _sql(rng: random.Random, n: int, name: str) -> str:
    return "\n".join(
        [
            f"SELECT t.id, t.{rng.choice(WORDS)}, count(*) AS {name}_count",
            f"FROM {name}_{n % 50} AS t",
            f"LEFT JOIN {rng.choice(WORDS)} AS u ON u.{name}_id = t.id",
            f"WHERE t.created_at >= now() - interval '{n % 30 + 1} days'",
            f"  AND t.{rng.choice(WORDS)} IN ('{rng.choice(WORDS)}', '{rng.choice(WORDS)}')",
            "GROUP BY t.id",
            f"HAVING count(*) > {n % 9}",
            "ORDER BY 3 DESC",
            f"LIMIT {n % 100 + 10};",
        ]
    )


def _bash(rng: random.Random, n: int, name: str) -> str:
    return "\n".join(
        [
            "#!/usr/bin/env bash",
            "set -euo pipefail",
            f'{name.upper()}_DIR="${{1:-/var/lib/{name}}}"',
            f'for f in "${name.upper()}_DIR"/*.log; do',
            f'  grep -c "{rng.choice(WORDS)}" "$f" || true',
            "done | sort -n | tail -n 5",
            f'echo "done: $(date +%s) {n}" >&2',
        ]
    )


def _rust(rng: random.Random, n: int, name: str) -> str:
    return "\n".join(
        [
            "use std::collections::HashMap;",
            "",
            f"pub fn {name}_{n}(input: &[&str]) -> HashMap<&str, usize> {{",
            "    let mut counts = HashMap::new();",
            "    for word in input.iter().filter(|w| !w.is_empty()) {",
            "        *counts.entry(*word).or_insert(0) += 1;",
            "    }",
            f"    counts.retain(|_, c| *c > {n % 7});",
            "    counts",
            "}",
        ]
    )


def _go(rng: random.Random, n: int, name: str) -> str:
    return "\n".join(
        [
            f"func {name.title()}{n}(ctx context.Context, ch <-chan string) error {{",
            "\tfor {",
            "\t\tselect {",
            "\t\tcase <-ctx.Done():",
            "\t\t\treturn ctx.Err()",
            "\t\tcase msg, ok := <-ch:",
            "\t\t\tif !ok {",
            "\t\t\t\treturn nil",
            "\t\t\t}",
            f'\t\t\tlog.Printf("{rng.choice(WORDS)} %d: %s", {n}, msg)',
            "\t\t}",
            "\t}",
            "}",
        ]
    )


def _java(rng: random.Random, n: int, name: str) -> str:
    return "\n".join(
        [
            f"public final class {name.title()}{n} {{",
            f"    private final Map<String, Integer> {rng.choice(WORDS)} = new HashMap<>();",
            "",
            "    @Override",
            "    public String toString() {",
            f'        return "{name}-{n}:" + {rng.choice(WORDS)}.size();',
            "    }",
            "}",
        ]
    )


def _c(rng: random.Random, n: int, name: str) -> str:
    return "\n".join(
        [
            "#include <stdio.h>",
            "",
            f"static int {name}_{n}(const char *s, size_t len) {{",
            "    int sum = 0;",
            "    for (size_t i = 0; i < len; i++) {",
            f"        sum += (unsigned char)s[i] * {n % 31 + 1};",
            "    }",
            "    return sum;",
            "}",
        ]
    )


def _json(rng: random.Random, n: int, name: str) -> str:
    return "\n".join(
        [
            "{",
            f'  "{name}": {{"id": {n}, "{rng.choice(WORDS)}": true}},',
            f'  "{rng.choice(WORDS)}": [{n % 7}, {n % 11}, {n % 13}],',
            f'  "label": "{rng.choice(UNICODE_WORDS)}",',
            '  "nested": {"enabled": false, "ratio": 0.25}',
            "}",
        ]
    )


def _yaml(rng: random.Random, n: int, name: str) -> str:
    return "\n".join(
        [
            f"{name}:",
            f"  replicas: {n % 9 + 1}",
            f"  image: registry.example.org/{name}:{n % 40}.0",
            "  env:",
            f"    - name: {rng.choice(WORDS).upper()}",
            f'      value: "{rng.choice(UNICODE_WORDS)}"',
        ]
    )


SNIPPETS: dict[str, Callable[[random.Random, int, str], str]] = {
    "python": _python,
    "javascript": _javascript,
    "typescript": _typescript,
    "sql": _sql,
    "bash": _bash,
    "rust": _rust,
    "go": _go,
    "java": _java,
    "c": _c,
    "json": _json,
    "yaml": _yaml,
}


def code_question(rng: random.Random, n: int) -> str:
    """One question of the ``code`` shape."""
    language = LANGUAGES[(n // 3) % len(LANGUAGES)]
    parts = [paragraph(rng, n), a_list(rng), paragraph(rng, n)]
    if n % 3 == 0:
        code = SNIPPETS[language](rng, n, rng.choice(WORDS))
        parts.insert(2, f"```{language}\n{code}\n```")
    if n % 6 == 1:
        parts.append(table(rng))
    if rng.random() < 0.2:
        parts.append(paragraph(rng, n))
    answer = "\n\n".join(parts)
    subject = rng.choice(UNICODE_WORDS + WORDS)
    lines = [
        f"      - id: c-{n}",
        f"        question: How does `{rng.choice(WORDS)}_{n}` treat {subject} in {language}?",
        f"        answer: |\n{block(answer)}",
        f"        how_to_answer: |\n{block(mixed(rng, rng.randint(10, 18)))}",
        "        example_answer: |",
        block('"' + " ".join(mixed(rng, rng.randint(8, 16)) for _ in range(2)) + '"'),
    ]
    if n % 4 == 0:
        lines.append(f"        tags: [{rng.choice(WORDS)}, {language}]")
    return "\n".join(lines) + "\n"


def bank(count: int, seed: int = 0, shape: str = "today") -> str:
    """The whole bank as YAML text."""
    rng = random.Random(seed)
    per_topic, make = (100, question) if shape == "today" else (50, code_question)
    parts = [
        "deck:\n",
        f"  name: Synthetic {count}\n"
        if shape == "today"
        else f"  name: Synthetic {shape} {count}\n",
        "  id: 1900000001\n",
        "  description: A generated bank for benchmarks.\n",
        "  tags: [bench]\n",
        "topics:\n",
    ]
    for n in range(count):
        if n % per_topic == 0:
            parts.append(f"  - name: Topic {n // per_topic}\n    questions:\n")
        parts.append(make(rng, n))
    return "".join(parts)


SHAPES = ("today", "code")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", type=int, help="number of questions")
    parser.add_argument("--shape", choices=SHAPES, default="today")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    sys.stdout.buffer.write(bank(args.count, args.seed, args.shape).encode("utf-8"))


if __name__ == "__main__":
    main()
