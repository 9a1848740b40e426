"""Chinese and English text search (DESIGN.md §10).

The derived search text holds CJK character bigrams, jieba words and Latin words. SQLite indexes
it with FTS5 (an external-content table kept by triggers), PostgreSQL with full-text search
(`simple` configuration, GIN expression index). A query of two or more Chinese characters becomes
bigrams that the index answers; a one-character query falls back to a scan."""

import re
from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_MAX_TOKENS = 4000
_jieba: Any = None


def jieba() -> Any:
    """jieba, loaded once per process (its dictionary takes a moment), quiet."""
    global _jieba
    if _jieba is None:
        import logging

        import jieba as module

        module.setLogLevel(logging.WARNING)
        _jieba = module
    return _jieba


def _segment(text: str) -> list[str]:
    return [w for w in jieba().lcut(text) if len(w) >= 3 and _CJK.fullmatch(w)]


def warm_up() -> None:
    """Load jieba's dictionary now (server start-up) rather than in the first request."""
    _segment("预热分词词典")


def _cjk_tokens(run: str) -> list[str]:
    if len(run) == 1:
        return [run]
    return [run[i : i + 2] for i in range(len(run) - 1)]


def _latin_words(text: str) -> list[str]:
    stripped = _CJK.sub(" ", text)
    return [w.lower() for w in _WORD.findall(stripped)]


def index_text(*parts: str, words: bool = True) -> str:
    """The derived search text of a case: unique tokens separated by spaces. Intake indexes bigrams
    and Latin words at once (`words=False`, cheap); the worker adds jieba's words after commit."""
    seen: dict[str, None] = {}
    for part in parts:
        if not part:
            continue
        for run in _CJK.findall(part):
            for token in _cjk_tokens(run):
                seen.setdefault(token)
            if words and len(run) >= 3:
                for word in _segment(run):
                    seen.setdefault(word)
        for word in _latin_words(part):
            seen.setdefault(word)
        if len(seen) > _MAX_TOKENS:
            break
    return " ".join(list(seen)[:_MAX_TOKENS])


def query_tokens(query: str) -> tuple[list[str], bool]:
    """The tokens all of which a match must hold, and whether the index can answer the query
    (False when it holds a lone Chinese character, which only a scan finds inside words)."""
    tokens: list[str] = []
    indexable = True
    for run in _CJK.findall(query):
        if len(run) == 1:
            indexable = False
        tokens.extend(_cjk_tokens(run))
    tokens.extend(_latin_words(query))
    return list(dict.fromkeys(tokens)), indexable


def filter_text(queryset: QuerySet, query: str) -> QuerySet:
    query = query.strip()
    if not query:
        return queryset
    tokens, indexable = query_tokens(query)
    if not tokens or not indexable:
        return queryset.filter(Q(description__icontains=query) | Q(title__icontains=query))
    if connection.vendor == "postgresql":
        expression = " & ".join(f"'{t}'" for t in tokens)
        sql = "SELECT id FROM complaints_complaint WHERE to_tsvector('simple', search_text) @@ to_tsquery('simple', %s)"
    else:
        expression = " ".join(f'"{t}"' for t in tokens)
        sql = "SELECT rowid FROM complaints_fts WHERE complaints_fts MATCH %s"
    matched = queryset.filter(pk__in=RawSQL(sql, [expression]))
    cjk_runs = [run for run in _CJK.findall(query) if len(run) > 2]
    for run in cjk_runs:
        # Bigrams may match apart from each other; the text itself must hold the phrase.
        matched = matched.filter(Q(description__contains=run) | Q(title__contains=run))
    return matched
