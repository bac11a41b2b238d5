"""moto's condition expressions read once per text, and its reserved words looked up in a set.

Every conditional write, filtered Query and transaction item made moto lex its condition or filter
expression again, a regular expression compiled per token (moto's `_lex_condition_expression`):
the tokens depend on the expression's text alone, so each text is lexed once and its tokens (moto's
immutable `Node` tuples, which the parser only reads) handed out again in a new deque. moto also
checked every attribute name against its reserved words by scanning a list of 573 of them: the same
words, in a frozenset. Installed by moto_fast.install() with its other patches."""

from __future__ import annotations

from collections import deque
from typing import Any

from moto.dynamodb.comparisons import ConditionExpressionParser
from moto.dynamodb.parsing.reserved_keywords import ReservedKeywords

LEXED_TEXTS = 4096  # distinct expression texts kept (the app has a few hundred)
_lexed: dict[str, tuple[Any, ...]] = {}
_original_lex = ConditionExpressionParser._lex_condition_expression


def _lex_once(self: ConditionExpressionParser) -> deque[Any]:
    text = self.condition_expression or ""
    tokens = _lexed.get(text)
    if tokens is None:
        tokens = tuple(_original_lex(self))
        if len(_lexed) < LEXED_TEXTS:
            _lexed[text] = tokens
    return deque(tokens)


def install() -> None:
    ConditionExpressionParser._lex_condition_expression = _lex_once  # type: ignore[method-assign]
    ReservedKeywords.KEYWORDS = frozenset(ReservedKeywords.get_reserved_keywords())  # type: ignore[assignment]


def uninstall() -> None:
    ConditionExpressionParser._lex_condition_expression = _original_lex  # type: ignore[method-assign]
    ReservedKeywords.KEYWORDS = list(ReservedKeywords.get_reserved_keywords())
