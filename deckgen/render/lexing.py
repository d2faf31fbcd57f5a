"""Pygments' regex lexers, with the same tokens in a fraction of the time.

A Pygments ``RegexLexer`` tries the rules of its current state in order at each position and
takes the first that matches: about 17 failed regex calls for every token of typical code,
most of the time a code block takes to highlight. Most rules can only match text that starts
with certain characters (``#`` for a comment, a digit for a number), so here each state
works out, once per character it meets, which of its rules could match text that starts with
that character, and only those are tried, in their order. The rule that matches is the one
Pygments' loop would have found, so the tokens are the same.

What a rule can start with is read from the regular expression's parsed form
(:mod:`re._parser`): the first single-character item it must consume, past optional and
zero-width parts; a lookahead narrows it the same way. Anything the analysis does not know
(a back reference, an expression that can match nothing) makes the rule a candidate for every
character, which is always correct, only slower. A lexer whose class changes the lexing loop
keeps Pygments' own, unless all its own lexing does is run RegexLexer's loop and change some
tokens (C's makes names of standard types types): that runs with the fast loop inside. Each
sped-up lexer is checked against Pygments on a sample first.
"""

from __future__ import annotations

import dis
import functools
import importlib
import itertools
import re
import types
from collections.abc import Callable, Iterator
from typing import Any

from pygments.lexer import Lexer, RegexLexer
from pygments.token import Error, Whitespace, _TokenType

# CPython's regular expression parser and compiler, public in all but name since 3.11.
try:
    _sre_compiler: Any = importlib.import_module("re._compiler")
    _sre: Any = importlib.import_module("re._constants")
    _sre_parser: Any = importlib.import_module("re._parser")
    _ANALYSABLE = True
except ImportError:  # pragma: no cover - another Python: Pygments' own loop
    _ANALYSABLE = False

Rule = tuple[Callable[..., Any], Any, Any]  # (match, action, new state), as Pygments keeps it
Tokens = Iterator[tuple[int, Any, str]]

# A sample of code-like text: each sped-up lexer must give Pygments' tokens for it.
_SAMPLE = (
    '#!/bin/sh\n// c++ /* block */ -- sql # py\n"str\\"ing" \'c\' `tick` r"raw" b\'\\x00\'\n'
    "def f(x: int = 0x1F, *a, **k) -> None:\n    return [i ** 2 for i in range(10) if i]\n"
    'fn main() { let v: Vec<u8> = vec![1, 2]; println!("{}", v[0]); }\n'
    "SELECT a, b FROM t WHERE c >= 1.5e-3 AND d <> 'x'; -- end\n"
    '{"key": [true, false, null, -2.0]}\n<tag attr="v">&amp;</tag> $var @dec %mod\n'
    'if [ -z "$1" ]; then echo ok; fi\nnaïve λ → ≤ 🚀\n\t\r\n\\\n'
)


class _Unknown(Exception):
    """Raised when a regular expression's first character cannot be worked out."""


def fast_lexer(lexer: Lexer) -> Lexer:
    """``lexer`` with its lexing sped up when it is a plain ``RegexLexer``, or one whose own
    lexing only runs RegexLexer's loop and changes some tokens (C's, PHP's); the tokens are
    the same. Any other lexer is returned as it is."""
    if not _ANALYSABLE:
        return lexer
    own = type(lexer).get_tokens_unprocessed
    wraps_loop = own is not RegexLexer.get_tokens_unprocessed
    if wraps_loop and not (isinstance(lexer, RegexLexer) and _only_calls_the_loop(own)):
        return lexer
    rules = getattr(lexer, "_tokens", None)
    if not isinstance(rules, dict):
        return lexer
    try:
        states = {name: _State(state) for name, state in rules.items()}
    except _Unknown:
        return lexer
    stock = list(lexer.get_tokens_unprocessed(_SAMPLE))

    def tokens(text: str, stack: tuple[str, ...] = ("root",)) -> Tokens:
        return _lex(lexer, states, text, stack)

    fast: Callable[..., Tokens] = tokens
    if wraps_loop:
        vars(lexer)[_LOOP] = tokens
        fast = types.MethodType(_with_fast_loop(own), lexer)
    try:
        if list(fast(_SAMPLE)) != stock:
            return lexer
    except Exception:  # a lexer this cannot handle: Pygments' loop, as it was
        return lexer
    lexer.get_tokens_unprocessed = fast  # type: ignore[method-assign]
    return lexer


# A lexer's own lexing that wraps RegexLexer's loop finds the fast loop under this attribute.
_LOOP = "_deckgen_regex_loop"


class _FastLoop:
    """Stands in for ``RegexLexer`` in a copy of a lexer's own ``get_tokens_unprocessed``,
    where the one thing it does is run RegexLexer's loop: this runs the fast one."""

    @staticmethod
    def get_tokens_unprocessed(lexer: Lexer, text: str, stack: Any = ("root",)) -> Tokens:
        loop: Callable[[str, Any], Tokens] = vars(lexer)[_LOOP]
        return loop(text, stack)


def _only_calls_the_loop(function: object) -> bool:
    """Whether ``function`` uses the name ``RegexLexer`` only to call its loop, so that the
    name can stand for :class:`_FastLoop` instead."""
    code = getattr(function, "__code__", None)
    if not isinstance(code, types.CodeType) or "RegexLexer" not in code.co_names:
        return False
    if any(isinstance(c, types.CodeType) and "RegexLexer" in c.co_names for c in code.co_consts):
        return False  # used in a nested function or comprehension: not looked into
    instructions = list(dis.get_instructions(code))
    if any(i.opname in ("STORE_GLOBAL", "DELETE_GLOBAL") for i in instructions):
        return False  # the copy's globals are a copy: it must only read them
    return all(
        following.argval == "get_tokens_unprocessed"
        for instruction, following in itertools.pairwise(instructions)
        if instruction.opname == "LOAD_GLOBAL" and instruction.argval == "RegexLexer"
    )


@functools.cache
def _with_fast_loop(function: types.FunctionType) -> types.FunctionType:
    """A copy of ``function`` that reads ``RegexLexer`` as :class:`_FastLoop`."""
    names = {**function.__globals__, "RegexLexer": _FastLoop}
    copy = types.FunctionType(
        function.__code__, names, function.__name__, function.__defaults__, function.__closure__
    )
    copy.__kwdefaults__ = function.__kwdefaults__
    return copy


class _State:
    """One state's rules, and for each character met, the rules that could match there.
    What each rule can start with is worked out when the state is first entered."""

    def __init__(self, rules: object) -> None:
        if not isinstance(rules, list):
            raise _Unknown
        for rule in rules:
            if not (isinstance(rule, tuple) and len(rule) == 3):
                raise _Unknown
            pattern = getattr(rule[0], "__self__", None)
            if not isinstance(pattern, re.Pattern) or getattr(rule[0], "__name__", "") != "match":
                raise _Unknown
        self.rules: list[Rule] = rules
        self.patterns: list[Any] = [rule[0].__self__ for rule in rules]
        self.starts: list[list[Callable[[str], object]] | None] | None = None
        self.table: dict[str, tuple[Rule, ...]] = {}

    def candidates(self, char: str) -> tuple[Rule, ...]:
        """The rules that could match text starting with ``char`` ('' at the end), in order."""
        found = self.table.get(char)
        if found is None:
            if self.starts is None:
                self.starts = [_first_characters(p) for p in self.patterns]
            found = self.table[char] = tuple(
                rule
                for rule, starts in zip(self.rules, self.starts, strict=True)
                if starts is None or (char and any(test(char) for test in starts))
            )
        return found


def _lex(lexer: Lexer, states: dict[str, _State], text: str, stack: tuple[str, ...]) -> Tokens:
    """A RegexLexer's tokens, as its own loop finds them: the first rule of the current state
    that matches at each position, its action and state change; a character no rule matches
    is an error token, except a line break, which also returns to the root state."""
    pos = 0
    end = len(text)
    names = list(stack)
    state = states[names[-1]]
    table = state.table
    while True:
        char = text[pos] if pos < end else ""
        rules = table.get(char) or state.candidates(char)
        for match, action, new_state in rules:
            found = match(text, pos)
            if not found:
                continue
            if action is not None:
                if type(action) is _TokenType:
                    yield pos, action, found.group()
                else:
                    yield from action(lexer, found)
            pos = found.end()
            if new_state is not None:
                _change_state(names, new_state)
                state = states[names[-1]]
                table = state.table
            break
        else:
            if pos >= end:
                return
            if char == "\n":
                names = ["root"]
                state = states["root"]
                table = state.table
                yield pos, Whitespace, "\n"
            else:
                yield pos, Error, char
            pos += 1


def _change_state(names: list[str], new_state: Any) -> None:
    """Apply a rule's state change to the stack: push names, '#push' the current state again,
    '#pop' one, or pop a number of states; the root state is never popped."""
    if type(new_state) is tuple:
        for name in new_state:
            if name == "#pop":
                if len(names) > 1:
                    names.pop()
            elif name == "#push":
                names.append(names[-1])
            else:
                names.append(name)
    elif type(new_state) is int:
        if -new_state >= len(names):
            del names[1:]
        else:
            del names[new_state:]
    elif new_state == "#push":
        names.append(names[-1])
    else:
        raise ValueError(f"unknown state change {new_state!r}")


# --- What a regular expression can start with -------------------------------------------

_ATOMS = ("LITERAL", "NOT_LITERAL", "IN", "ANY", "CATEGORY")
_KNOWN = (
    *_ATOMS,
    *("BRANCH", "SUBPATTERN", "ATOMIC_GROUP", "MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"),
    *("ASSERT", "ASSERT_NOT", "AT"),
)
# The parser's operation codes by name (the codes are ints that print as their names).
_OPCODES = (
    {getattr(_sre, name): name for name in _KNOWN if hasattr(_sre, name)} if _ANALYSABLE else {}
)


@functools.lru_cache(maxsize=4096)
def _first_characters(pattern: re.Pattern[Any]) -> list[Callable[[str], object]] | None:
    """Tests of one character, one of which any match of ``pattern`` starting with that
    character passes; ``None`` when the pattern may match anywhere (it can match nothing, or
    the analysis does not know)."""
    if not isinstance(pattern.pattern, str):
        return None
    try:
        parsed = _sre_parser.parse(pattern.pattern, pattern.flags)
        tests: list[Callable[[str], object]] = []
        if _first(parsed, parsed.state.flags, tests, parsed.state):
            return None
        return tests
    except (_Unknown, re.error, RecursionError, TypeError, ValueError):
        return None


def _one_character(op: Any, av: Any, flags: int, state: Any) -> Callable[[str], object]:
    """A test of one character: the item compiled on its own, with its flags."""
    key = (op, repr(av), flags)
    test = _ONE_CHARACTER.get(key)
    if test is None:
        item = _sre_parser.SubPattern(state, [(op, av)])
        test = _ONE_CHARACTER[key] = _sre_compiler.compile(item, flags).match
    return test


_ONE_CHARACTER: dict[tuple[Any, str, int], Callable[[str], object]] = {}


def _first(items: Any, flags: int, tests: list[Callable[[str], object]], state: Any) -> bool:
    """Add a test for each character the items can start with; return whether they can all
    match without consuming a character (then what follows them counts too)."""
    for op, av in items:
        name = _OPCODES.get(op)
        if name in _ATOMS:
            # One character, tested by the very item compiled on its own, flags and all.
            tests.append(_one_character(op, av, flags, state))
            return False
        if name == "BRANCH":
            empty = False
            for branch in av[1]:
                empty = _first(branch, flags, tests, state) or empty
            if not empty:
                return False
        elif name == "SUBPATTERN":
            _group, add, remove, inner = av
            if not _first(inner, (flags | add) & ~remove, tests, state):
                return False
        elif name == "ATOMIC_GROUP":
            if not _first(av, flags, tests, state):
                return False
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            low, _high, inner = av
            if not _first(inner, flags, tests, state) and low > 0:
                return False
        elif name == "ASSERT":
            direction, inner = av
            # A lookahead that must see a character narrows where a match can start.
            if direction == 1 and not _first(inner, flags, tests, state):
                return False
        elif name not in ("AT", "ASSERT_NOT"):  # both zero-width: look past them
            raise _Unknown  # a back reference, a conditional, an unknown item
    return True
