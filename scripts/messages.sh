#!/usr/bin/env bash
# Refresh the translation catalogues (locale/*/LC_MESSAGES/django.po) from the sources, then compile them.
#
#   scripts/messages.sh          extract, merge, fill zh_Hans, compile; lists what English still lacks
#   scripts/messages.sh --check  the same, but exit 1 while an English entry is untranslated or fuzzy
#
# Source strings are Simplified Chinese, so:
#   - zh_Hans is filled automatically: msgstr = msgid for every entry (fuzzy marks cleared);
#   - en keeps every existing translation (makemessages merges with msgmerge); new strings arrive with an
#     empty msgstr, and a changed string arrives "fuzzy" with the old translation as a guess. Translate those,
#     remove the "#, fuzzy" line, and run this script again. core/tests/test_i18n.py fails until you have.
#
# Needs GNU gettext (xgettext, msgmerge, msgattrib, msgen) for extraction only: apt-get install gettext.
# The build (`make messages`) compiles with Babel and needs no system gettext.
set -euo pipefail
cd "$(dirname "$0")/.."

check=0
[[ "${1:-}" == "--check" ]] && check=1

BIN=.venv/bin
[[ -x "$BIN/complaintdesk" ]] || { echo "no $BIN/complaintdesk: run 'make install' first" >&2; exit 1; }
for tool in xgettext msgmerge msguniq msgattrib msgen; do
  command -v "$tool" >/dev/null || { echo "$tool not found: apt-get install gettext" >&2; exit 1; }
done

mkdir -p locale/en/LC_MESSAGES locale/zh_Hans/LC_MESSAGES
# Locations without line numbers: the code moves under concurrent work, and line numbers would churn the diffs.
"$BIN/complaintdesk" makemessages -l en -l zh_Hans --no-obsolete --add-location=file \
  --ignore=.venv --ignore=node_modules --ignore=bench --ignore='*.egg-info' \
  --ignore=staticfiles --ignore=media --ignore=build

# zh_Hans is the source language: every msgstr is its msgid, including entries msgmerge guessed (fuzzy).
zh=locale/zh_Hans/LC_MESSAGES/django.po
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
msgattrib --clear-fuzzy --empty --clear-previous -o "$tmp" "$zh"
msgen -o "$zh" "$tmp"
# msgen copies msgid into non-empty msgstr only where empty; make the rest identical too (hand edits, if any).
"$BIN/python" - "$zh" <<'PY'
import sys
from babel.messages.pofile import read_po
path = sys.argv[1]
with open(path, "rb") as f:
    catalog = read_po(f)
differ = [m.id for m in catalog if m.id and m.string != m.id]
if differ:
    print(f"{path}: {len(differ)} entries whose msgstr is not their msgid (left as they are):", *differ, sep="\n  ")
PY

# English: list what still needs a translator.
en=locale/en/LC_MESSAGES/django.po
untranslated=$(msgattrib --untranslated --no-obsolete "$en" | grep -c '^msgid ' || true)
fuzzy=$(msgattrib --only-fuzzy --no-obsolete "$en" | grep -c '^msgid ' || true)
# each non-empty msgattrib output carries the header entry too
untranslated=$(( untranslated > 0 ? untranslated - 1 : 0 ))
fuzzy=$(( fuzzy > 0 ? fuzzy - 1 : 0 ))
total=$(grep -c '^msgid ' "$en"); total=$(( total - 1 ))
echo "en: $total messages, $untranslated untranslated, $fuzzy fuzzy"
if (( untranslated + fuzzy > 0 )); then
  echo "Translate these in $en (and delete their '#, fuzzy' lines):"
  { msgattrib --untranslated --no-obsolete "$en"; msgattrib --only-fuzzy --no-obsolete "$en"; } \
    | grep '^msgid "[^"]' | sed 's/^/  /'
fi

# Compile (as `make messages` does; fuzzy entries are left out here, so they fall back to the Chinese source).
for po in locale/*/LC_MESSAGES/django.po; do
  "$BIN/pybabel" -q compile -i "$po" -o "${po%.po}.mo"
done
echo "compiled: $(ls locale/*/LC_MESSAGES/django.mo | tr '\n' ' ')"

(( check == 0 || untranslated + fuzzy == 0 )) || exit 1
