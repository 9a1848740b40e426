"""Chinese and English text search (DESIGN.md §10).

The derived search text holds CJK character bigrams, jieba words and Latin words. SQLite indexes
it with FTS5 (an external-content table kept by triggers), PostgreSQL with full-text search
(`simple` configuration, GIN expression index). A query of two or more Chinese characters becomes
bigrams that the index answers; a one-character query falls back to a scan."""

import re
from typing import Any

from django.db import connection
from django.db.models import BooleanField, F, Func, Q, QuerySet, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import StrIndex
from django.db.models.lookups import GreaterThan

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
        matched = _postgresql_match(queryset, tokens)
    else:
        expression = " ".join(f'"{t}"' for t in tokens)
        sql = "SELECT rowid FROM complaints_fts WHERE complaints_fts MATCH %s"
        matched = queryset.filter(pk__in=RawSQL(sql, [expression]))
    cjk_runs = [run for run in _CJK.findall(query) if len(run) > 2]
    for run in cjk_runs:
        # Bigrams may match apart from each other; the text itself must hold the phrase.
        matched = matched.filter(Q(description__contains=run) | Q(title__contains=run))
    return matched


# --- PostgreSQL: the plan of a page of matches (issue 8) ---------------------------------------
# A page of the list is ordered by deadline (or newest first) with LIMIT 50. For a common word
# PostgreSQL walks that order's index and keeps the cases that match, which stops after a few
# hundred; for a rare word the same walk tests case after case across the whole table (seconds over
# two million). So the matches are fetched first, up to SMALL_MATCHES of them: when the word has no
# more, the list is those cases by primary key, ordered among themselves; otherwise the match stays
# a condition for the planner, which then has the GIN index and the ordered walk to choose from.

DEFAULT_SMALL_MATCHES = 2_000


def small_matches() -> int:
    from django.conf import settings

    return int(getattr(settings, "COMPLAINTDESK_SEARCH_SMALL_MATCHES", DEFAULT_SMALL_MATCHES))


class _Matches(Func):
    """`to_tsvector('simple', search_text) @@ to_tsquery('simple', query)`: the GIN index's own
    expression (migration 0003), so that the index answers it."""

    output_field = BooleanField()

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        text, query = self.get_source_expressions()
        text_sql, text_params = compiler.compile(text)
        query_sql, query_params = compiler.compile(query)
        return f"to_tsvector('simple', {text_sql}) @@ to_tsquery('simple', {query_sql})", [*text_params, *query_params]


# Tokens that PostgreSQL's parser keeps whole, as they stand in the search text (index_text writes
# them lower-cased between spaces): for these a match implies the token is in the text.
_WHOLE_TOKEN = re.compile(r"[a-z0-9]+|[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")


def _postgresql_match(queryset: QuerySet, tokens: list[str]) -> QuerySet:
    match = _Matches(F("search_text"), Value(" & ".join(f"'{t}'" for t in tokens)))
    limit = small_matches()
    # Over every case, not only the visible ones: the ids only narrow the caller's queryset.
    ids = list(queryset.model._base_manager.filter(match).values_list("pk", flat=True)[: limit + 1])
    if len(ids) <= limit:
        return queryset.filter(pk__in=ids)
    # Walking the page's order, PostgreSQL tests the match on each case it passes, and recomputing
    # to_tsvector over a case's search text costs ~0.15 ms: 200 ms for a page of a word in 3 % of
    # the cases. strpos() first (microseconds; the planner runs the cheaper test first) leaves
    # to_tsvector to the cases that hold the tokens. A narrowing only: the match decides.
    whole = [t for t in tokens if _WHOLE_TOKEN.fullmatch(t)]
    return queryset.filter(*(GreaterThan(StrIndex("search_text", Value(t)), 0) for t in whole), match)
