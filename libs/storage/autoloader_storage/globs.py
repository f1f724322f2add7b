"""Glob patterns over object keys: `*` and `?` stay within a path segment, `**` crosses them."""

from __future__ import annotations

import re
from dataclasses import dataclass

_SPECIAL = set("*?[")


DIRS_LENGTH = 3  # `**/` is the tokens maybe, globstar, literal "/"


@dataclass(frozen=True)
class _Token:
    kind: str  # literal | one (?) | class ([..]) | star (*) | globstar (**) | maybe (see dirs)
    text: str = ""
    chars: re.Pattern[str] | None = None


@dataclass(frozen=True)
class Glob:
    """A compiled glob, matched by simulating its automaton: time linear in the key's length
    for any pattern. (A backtracking regex takes exponential time on `**a**a**a**a**b` against a
    long key of a's, and a tenant writes the pattern.)"""

    pattern: str
    tokens: tuple[_Token, ...]
    # The same pattern as a regex, when a backtracking engine cannot blow up on it (at most one
    # `**` and one `*` per segment, as nearly every real pattern): the common case stays at
    # C speed; None sends every key through the automaton.
    regex: re.Pattern[str] | None = None

    def match(self, key: str) -> bool:
        if self.regex is not None:
            return self.regex.match(key) is not None
        return self.automaton_match(key)

    def automaton_match(self, key: str) -> bool:
        states = self._closure({0})
        for char in key:
            states = self._closure({n for i in states for n in self._step(i, char)})
            if not states:
                return False
        return len(self.tokens) in states

    def _step(self, index: int, char: str) -> tuple[int, ...]:
        if index == len(self.tokens):
            return ()
        token = self.tokens[index]
        if token.kind == "literal":
            return (index + 1,) if char == token.text else ()
        if token.kind == "one":
            return (index + 1,) if char != "/" else ()
        if token.kind == "class":
            assert token.chars is not None
            return (index + 1,) if token.chars.fullmatch(char) else ()
        if token.kind == "star":
            return (index,) if char != "/" else ()
        if token.kind == "globstar":
            return (index,)
        return ()  # maybe consumes nothing

    def _closure(self, states: set[int]) -> set[int]:
        # star and globstar match the empty string: their next token is reachable too; `maybe`
        # (the start of `**/`, that is (.*/)?) goes on into it, or past its three tokens.
        pending, seen = list(states), set(states)
        while pending:
            index = pending.pop()
            kind = self.tokens[index].kind if index < len(self.tokens) else ""
            following = {"star": (1,), "globstar": (1,), "maybe": (1, DIRS_LENGTH)}
            for step in following.get(kind, ()):
                if index + step not in seen:
                    seen.add(index + step)
                    pending.append(index + step)
        return seen


def compile_glob(pattern: str) -> Glob:
    """`**/*.json`, `year=*/month=*/*.parquet`, `data-[0-9]?.csv`, anchored at both ends."""
    tokens: list[_Token] = []
    regex: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if pattern.startswith("**/", i):
            tokens += [_Token("maybe"), _Token("globstar"), _Token("literal", "/")]
            regex.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            tokens.append(_Token("globstar"))
            regex.append(".*")
            i += 2
        elif char == "*":
            tokens.append(_Token("star"))
            regex.append("[^/]*")
            i += 1
        elif char == "?":
            tokens.append(_Token("one"))
            regex.append("[^/]")
            i += 1
        elif char == "[" and pattern.find("]", i + 2) != -1:
            end = pattern.find("]", i + 2)
            body = pattern[i + 1 : end]
            negate = body.startswith("!")
            body = body[1:] if negate else body
            escaped = re.escape(body).replace(chr(92) + "-", "-")
            chars = f"[{'^' if negate else ''}{escaped}]"
            # One character against a class: no repetition, nothing to backtrack.
            tokens.append(_Token("class", chars=re.compile(chars)))
            regex.append(chars)
            i = end + 1
        else:
            tokens.append(_Token("literal", char))
            regex.append(re.escape(char))
            i += 1
    tame = _tame(tokens)
    return Glob(pattern, tuple(tokens), re.compile("".join(regex) + r"\Z", re.S) if tame else None)


def _tame(tokens: list[_Token]) -> bool:
    """At most one `**` and one `*` per segment: a backtracking regex stays polynomial."""
    crossing = sum(t.kind == "globstar" for t in tokens)
    per_segment, most = 0, 0
    for token in tokens:
        if token.kind == "literal" and token.text == "/":
            per_segment = 0
        elif token.kind == "star":
            per_segment += 1
            most = max(most, per_segment)
    return crossing <= 1 and most <= 1


def literal_prefix(pattern: str) -> str:
    """The part of the pattern before its first wildcard: listing can start there."""
    for index, char in enumerate(pattern):
        if char in _SPECIAL:
            return pattern[:index]
    return pattern
