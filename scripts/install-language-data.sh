#!/bin/sh
# Install the language data newsbot reads at run time, from Debian's packages, when missing
# and apt-get is usable (root, or passwordless sudo):
#   dict-freedict-eng-deu  — FreeDict English–German dictionary (English questions)
#   openthesaurus-de-text  — OpenThesaurus German synonyms (paraphrased German questions)
# Never fails: without them newsbot still runs, answers English questions from names alone,
# does not expand synonyms, and says so once in its log.
set -u
missing=""
[ -f /usr/share/dictd/freedict-eng-deu.index ] || missing="$missing dict-freedict-eng-deu"
[ -f /usr/share/openthesaurus-de/openthesaurus.txt ] || missing="$missing openthesaurus-de-text"
[ -z "$missing" ] && exit 0
SUDO=""
if [ "$(id -u)" != "0" ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"; else SUDO=none; fi
fi
if command -v apt-get >/dev/null 2>&1 && [ "$SUDO" != "none" ]; then
    echo "installing language data:$missing"
    # shellcheck disable=SC2086
    $SUDO apt-get install -y -qq $missing >/dev/null 2>&1 \
        || { $SUDO apt-get update -qq >/dev/null 2>&1 && $SUDO apt-get install -y -qq $missing >/dev/null 2>&1; } \
        || echo "note: could not install$missing"
else
    echo "note: missing$missing — install with: sudo apt-get install$missing"
fi
exit 0
