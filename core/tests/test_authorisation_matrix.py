"""The authorisation matrix (issue 9): every page and API operation, requested as every subject
(anonymous, the consumer, staff without a role, each role) on a case of their own department and of
another, in each of five states, against the table in docs/security.md ("## Authorisation matrix").

The table is written from DESIGN.md §1, not copied from the code; the test names every cell where the
two disagree, and fails when a page or an operation appears that the table does not list. Set
AUTHZ_MATRIX_OUT=path to write the observed table (for drafting the document), and
AUTHZ_MATRIX_ONLY=regex to request only the matching rows."""

import logging
import os
import re
import time
from pathlib import Path

import pytest

from .authz_matrix import (
    SKIPPED_API,
    SKIPPED_PAGES,
    STATES,
    SUBJECTS,
    Matrix,
    Recorder,
    api_operations,
    compress,
    expected_letter,
    page_patterns,
    parse_doc,
    row_of,
)
from .authz_world import build


def test_the_table_lists_every_page_and_every_api_operation():
    expected = parse_doc()
    listed = {row_of(key).pattern for key in expected.rows}
    missing = []
    for path, skip in page_patterns().items():
        if not skip and path not in listed:
            missing.append(f"page {path}")
    for key, skip in api_operations().items():
        if not skip and key.split(" ", 1)[1] not in listed:
            missing.append(f"API {key}")
        elif not skip and key not in expected.rows:
            missing.append(f"API {key} (the method)")
    existing = set(page_patterns()) | {k.split(" ", 1)[1] for k in api_operations()}
    stale = [key for key in expected.rows if row_of(key).pattern not in existing]
    assert not missing, "docs/security.md's authorisation matrix does not list:\n" + "\n".join(missing)
    assert not stale, "docs/security.md's authorisation matrix lists what no longer exists:\n" + "\n".join(stale)
    for key, cells in expected.rows.items():
        assert list(cells) == list(SUBJECTS), key


def test_the_skip_lists_give_a_reason_for_each_entry():
    assert all(reason.strip() for reason in {**SKIPPED_PAGES, **SKIPPED_API}.values())


@pytest.mark.slow
@pytest.mark.skipif(
    os.environ.get("COMPLAINTDESK_TESTS_DB_ONLY") == "1",
    reason="run on the SQLite pass only: the rules are the same Python on both databases, and the ~5-minute "
    "matrix twice would take CI past its 30 minutes",
)
def test_every_cell_of_the_matrix_matches_the_table(db, monkeypatch, settings):
    settings.COMPLAINTDESK_APPLY_TEXT_SIGNALS = False
    started = time.monotonic()
    world = build()
    built = time.monotonic()
    recorder = Recorder()
    recorder.install(monkeypatch)
    matrix = Matrix(world, recorder)
    expected = parse_doc()
    logging.disable(logging.WARNING)  # thousands of expected 403/404 warnings and request lines
    try:
        cells, mismatches, observed_rows, timings = _run(matrix, expected)
    finally:
        logging.disable(logging.NOTSET)
    elapsed = time.monotonic() - started
    print(
        f"authorisation cells tested: {cells} ({matrix.requests} requests, world {built - started:.1f} s, "
        f"total {elapsed:.1f} s)"
    )
    for key, seconds in sorted(timings.items(), key=lambda kv: -kv[1])[:15]:
        print(f"  {seconds:6.2f} s  {key}")
    out = os.environ.get("AUTHZ_MATRIX_OUT")
    if out:
        header = "| endpoint | " + " | ".join(SUBJECTS) + " |\n|---|" + "---|" * len(SUBJECTS) + "\n"
        lines = [
            f"| `{key}` | " + " | ".join(f"`{v}`" for v in cells_.values()) + " |"
            for key, cells_ in observed_rows.items()
        ]
        Path(out).write_text(header + "\n".join(lines) + "\n", encoding="utf-8")
    assert not matrix.unclear, "requests the matrix could not classify:\n" + "\n".join(matrix.unclear)
    assert not mismatches, (
        f"{len(mismatches)} of {cells} authorisation cells differ from docs/security.md "
        "(endpoint | subject | own/other | state | expected | got):\n" + "\n".join(mismatches)
    )


def _run(matrix, expected):  # type: ignore[no-untyped-def]
    mismatches: list[str] = []
    observed_rows: dict[str, dict[str, str]] = {}
    cells = 0
    only = os.environ.get("AUTHZ_MATRIX_ONLY", "")  # a regex, to draft a few rows at a time
    timings: dict[str, float] = {}
    for key in expected.order:
        if only and not re.search(only, key):
            continue
        row = row_of(key)
        row_started = time.monotonic()
        observed = matrix.observe(row)
        timings[key] = time.monotonic() - row_started
        observed_rows[key] = {subject: compress(observed[subject]) for subject in SUBJECTS}
        for subject in SUBJECTS:
            cell = expected.rows[key][subject]
            for side, per_state in observed[subject].items():
                for state, got in per_state.items():
                    cells += 1
                    index = STATES.index(state) if state else None
                    want = expected_letter(cell, side, index)
                    if want != got:
                        mismatches.append(f"{key} | {subject} | {side} | {state or '-'} | expected {want} | got {got}")
    return cells, mismatches, observed_rows, timings
