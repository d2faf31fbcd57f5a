"""Write a synthetic question bank of N questions in deckgen's format, the same for the same N.

    python bench/generate.py 10000 > bank.yaml

100 questions per topic; every answer is a few hundred characters of Markdown with inline
code, bold and a two-item list; one question in ten has a fenced code block; every question
has how_to_answer and example_answer.
"""

from __future__ import annotations

import random
import sys

WORDS = (
    "request response handler router schema model field value cache index query token "
    "session client server worker queue event stream buffer header cookie payload record "
    "object method function module package service endpoint resource version timeout"
).split()


def sentence(rng: random.Random, words: int) -> str:
    text = " ".join(rng.choice(WORDS) for _ in range(words))
    return text[0].upper() + text[1:] + "."


def block(text: str, indent: int = 10) -> str:
    pad = " " * indent
    return "\n".join(pad + line if line else "" for line in text.splitlines())


def question(rng: random.Random, n: int) -> str:
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


def bank(count: int, seed: int = 0) -> str:
    rng = random.Random(seed)
    parts = [
        "deck:\n",
        f"  name: Synthetic {count}\n",
        "  id: 1900000001\n",
        "  description: A generated bank for benchmarks.\n",
        "  tags: [bench]\n",
        "topics:\n",
    ]
    for n in range(count):
        if n % 100 == 0:
            parts.append(f"  - name: Topic {n // 100}\n    questions:\n")
        parts.append(question(rng, n))
    return "".join(parts)


if __name__ == "__main__":
    sys.stdout.write(bank(int(sys.argv[1])))
