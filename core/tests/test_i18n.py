"""Translations: the catalogues are complete, in step with the code, and the API answers in the asked language.

Source strings (msgids) are Simplified Chinese; locale/en translates them and locale/zh_Hans mirrors them.
When a test here fails after you add or change a string: run scripts/messages.sh, translate what it lists in
locale/en/LC_MESSAGES/django.po (and delete any "#, fuzzy" line), then run the script again.

The end-to-end tests need compiled catalogues: this module compiles every django.po whose django.mo is missing
or older (Babel, as `make messages` does), so plain `pytest` works without a build step.
"""

import ast
import json
import os
import re
import tempfile
from collections import Counter
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from django.test import Client
from django.utils import translation

ROOT = Path(__file__).resolve().parents[2]
LOCALE_DIR = ROOT / "locale"
LOCALES = ("en", "zh_Hans")
PLURAL_FORMS = {"en": "nplurals=2; plural=(n != 1);", "zh_Hans": "nplurals=1; plural=0;"}
# The folders whose Python code makemessages scans (the project's apps and its configuration).
SOURCE_DIRS = (
    "accounts",
    "complaints",
    "core",
    "customers",
    "intake",
    "ledger",
    "config",
    "notifications",
    "feedback",
    "privacy",
    "analytics",
    "reports",
    "improvement",
    "risk",
)
CJK = re.compile(r"[\u3400-\u9fff]")
# A %-format directive as Python's % operator reads it ("%%" included).
FORMAT_SPEC = re.compile(
    r"%(?:\((?P<name>[^)]*)\))?[#0 +\-]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?(?P<conv>[diouxXeEfFgGcrsa%])"
)


def po_path(locale: str) -> Path:
    return LOCALE_DIR / locale / "LC_MESSAGES" / "django.po"


def load(locale: str) -> Catalog:
    with po_path(locale).open("rb") as f:
        return read_po(f)


# --- compiling ------------------------------------------------------------------------------


def compile_catalogues() -> list[Path]:
    """Compile each django.po whose django.mo is missing or older than it; return the .mo files written.

    Fuzzy entries are left out (as pybabel compile does without --use-fuzzy): they fall back to the source."""
    written = []
    for locale in LOCALES:
        po = po_path(locale)
        mo = po.with_suffix(".mo")
        if not po.exists() or (mo.exists() and mo.stat().st_mtime_ns >= po.stat().st_mtime_ns):
            continue
        with po.open("rb") as f:
            catalog = read_po(f)
        fd, tmp = tempfile.mkstemp(dir=mo.parent, prefix=".django.", suffix=".mo")
        try:
            with os.fdopen(fd, "wb") as f:
                write_mo(f, catalog, use_fuzzy=False)
            os.replace(tmp, mo)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        written.append(mo)
    return written


# At collection, before any test of the session has loaded a catalogue; a broken .po is reported by the tests
# below, not as a collection error.
try:
    compile_catalogues()
except Exception:  # noqa: S110
    pass


@pytest.fixture(scope="module")
def compiled() -> None:
    """Up-to-date .mo files, and Django's translation caches emptied so that it reads them afresh."""
    compile_catalogues()
    from django.utils.translation.reloader import translation_file_changed

    translation_file_changed(sender=None, file_path=Path("django.mo"))


# --- the catalogues themselves ---------------------------------------------------------------


def _specs(text: str) -> Counter[str]:
    return Counter(m.group(0) for m in FORMAT_SPEC.finditer(text) if m.group("conv") != "%")


def _strings(value: str | tuple[str, ...] | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


@pytest.mark.parametrize("locale", LOCALES)
def test_catalogue_header(locale: str) -> None:
    text = po_path(locale).read_text(encoding="utf-8")
    header = text[: text.find("\n\n")]
    assert "#, fuzzy" not in header, f"{po_path(locale)}: the header is marked fuzzy"
    assert f'"Language: {locale}\\n"' in header
    assert '"Content-Type: text/plain; charset=UTF-8\\n"' in header
    assert f'"Plural-Forms: {PLURAL_FORMS[locale]}\\n"' in header
    assert not load(locale).fuzzy


@pytest.mark.parametrize("locale", LOCALES)
def test_every_entry_translated_and_not_fuzzy(locale: str) -> None:
    catalog = load(locale)
    assert len(catalog) > 0
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    empty = [m.id for m in catalog if m.id and not all(s.strip() for s in _strings(m.string))]
    assert not fuzzy, f"{po_path(locale)}: fuzzy entries (check the translation, delete '#, fuzzy'): {fuzzy}"
    assert not empty, f"{po_path(locale)}: untranslated entries (run scripts/messages.sh, translate): {empty}"


@pytest.mark.parametrize("locale", LOCALES)
def test_placeholders_kept(locale: str) -> None:
    """A translation has exactly the msgid's %(name)s / %(n)d directives, and no stray %: else `%` raises."""
    wrong = []
    for m in load(locale):
        if not m.id or "python-format" not in m.flags:
            continue
        ids = _strings(m.id)
        for translated in _strings(m.string):
            specs = _specs(translated)
            if len(ids) == 1:
                ok = specs == _specs(ids[0])
            else:  # a plural form may leave the number out ("one day"), never add a directive
                ok = set(specs) <= set(_specs(ids[0])) | set(_specs(ids[1]))
            if not ok or FORMAT_SPEC.sub("", translated).count("%"):
                wrong.append((m.id, translated))
    assert not wrong, f"{po_path(locale)}: placeholders differ from the msgid: {wrong}"


def test_zh_hans_mirrors_the_source() -> None:
    """The source language's catalogue is msgstr = msgid throughout (scripts/messages.sh keeps it so)."""

    def mirrors(m) -> bool:  # type: ignore[no-untyped-def]
        if isinstance(m.id, tuple):  # ngettext: Chinese has one plural form, the singular msgid
            return all(form == m.id[0] for form in m.string)
        return m.string == m.id

    differ = [(m.id, m.string) for m in load("zh_Hans") if m.id and not mirrors(m)]
    assert not differ, f"run scripts/messages.sh: zh_Hans entries that are not their msgid: {differ}"


# --- the code against the catalogues ---------------------------------------------------------

# Django's gettext functions: which positional arguments are the context (c), singular (s) and plural (p).
GETTEXT_FUNCTIONS = {
    "gettext": "s",
    "gettext_lazy": "s",
    "gettext_noop": "s",
    "ngettext": "sp",
    "ngettext_lazy": "sp",
    "pgettext": "cs",
    "pgettext_lazy": "cs",
    "npgettext": "csp",
    "npgettext_lazy": "csp",
}
TRANSLATION_MODULE = "django.utils.translation"


def _source_files() -> list[Path]:
    files = []
    for folder in SOURCE_DIRS:
        files += [p for p in sorted((ROOT / folder).rglob("*.py")) if "__pycache__" not in p.parts]
    return files


def scan_sources() -> tuple[dict[tuple[str, str | None], list[str]], list[str]]:
    """The msgids of the gettext calls in the sources, as {(msgid, context): [places]}, and the places of calls
    whose arguments are not string literals (which extraction cannot see)."""
    found: dict[tuple[str, str | None], list[str]] = {}
    not_literal: list[str] = []
    for path in _source_files():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        functions: dict[str, str] = {}  # local name -> gettext function
        modules = {TRANSLATION_MODULE}  # local names of django.utils.translation
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == TRANSLATION_MODULE:
                for alias in node.names:
                    if alias.name in GETTEXT_FUNCTIONS:
                        functions[alias.asname or alias.name] = alias.name
            elif isinstance(node, ast.ImportFrom) and node.module == "django.utils":
                modules |= {a.asname or a.name for a in node.names if a.name == "translation"}
            elif isinstance(node, ast.Import):
                modules |= {a.asname for a in node.names if a.name == TRANSLATION_MODULE and a.asname}
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            if isinstance(node.func, ast.Name) and node.func.id in functions:
                function = functions[node.func.id]
            elif (
                isinstance(node.func, ast.Attribute)
                and node.func.attr in GETTEXT_FUNCTIONS
                and ast.unparse(node.func.value) in modules
            ):
                function = node.func.attr
            else:
                continue
            place = f"{path.relative_to(ROOT)}:{node.lineno}"
            roles = GETTEXT_FUNCTIONS[function]
            args = node.args[: len(roles)]
            if len(args) < len(roles) or not all(
                isinstance(a, ast.Constant) and isinstance(a.value, str) for a in args
            ):
                not_literal.append(f"{place}: {ast.unparse(node)}")
                continue
            values = dict(zip(roles, (a.value for a in args), strict=True))
            found.setdefault((values["s"], values.get("c")), []).append(place)
    return found, not_literal


def test_source_scan_finds_strings() -> None:
    found, _ = scan_sources()
    assert ("此项必填。", None) in found  # core/api_errors.py: the scan works at all
    assert len(found) > 100


@pytest.mark.parametrize("locale", LOCALES)
def test_every_source_string_is_in_the_catalogue(locale: str) -> None:
    found, _ = scan_sources()
    catalog = load(locale)
    missing = sorted(
        f"{msgid!r} ({', '.join(places)})"
        for (msgid, context), places in found.items()
        if catalog.get(msgid, context=context) is None
    )
    assert not missing, (
        f"strings in the code missing from {po_path(locale)}: run scripts/messages.sh and translate them:\n  "
        + "\n  ".join(missing)
    )


def test_gettext_calls_take_literals() -> None:
    """_(f"...") or _(variable) is never extracted, so it is never translated: write the literal in the call
    (with %(name)s placeholders), or mark the literal elsewhere with gettext_noop."""
    _, not_literal = scan_sources()
    assert not not_literal, "gettext calls whose message is not a string literal:\n  " + "\n  ".join(not_literal)


# --- end to end --------------------------------------------------------------------------------


def test_catalogues_are_loaded(compiled: None) -> None:
    with translation.override("en"):
        assert translation.gettext("此项必填。") == "This field is required."
    with translation.override("zh-hans"):
        assert translation.gettext("此项必填。") == "此项必填。"


def _intake_errors(**headers: str) -> list[dict[str, str]]:
    response = Client(**headers).post(
        "/api/v1/complaints", json.dumps({"description": "x"}), content_type="application/json"
    )
    assert response.status_code == 422, response.content
    errors = response.json()["errors"]
    assert errors
    return errors


def test_validation_errors_in_english(db: None, compiled: None) -> None:
    errors = _intake_errors(HTTP_ACCEPT_LANGUAGE="en")
    assert "at least" in errors[0]["message"], errors
    assert not [e for e in errors if CJK.search(e["message"])], errors


def test_validation_errors_in_chinese(db: None, compiled: None) -> None:
    errors = _intake_errors(HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "至少" in errors[0]["message"], errors
    assert all(CJK.search(e["message"]) for e in errors), errors


def test_chinese_is_the_default(db: None, compiled: None) -> None:
    errors = _intake_errors()
    assert "至少" in errors[0]["message"], errors
