#!/bin/sh
# Install the FreeDict English–German dictionary (Debian: dict-freedict-eng-deu) when it is
# missing and apt-get is usable. Never fails: without it newsbot answers English questions
# from names alone and says so in its log.
INDEX=/usr/share/dictd/freedict-eng-deu.index
[ -f "$INDEX" ] && exit 0
if command -v apt-get >/dev/null 2>&1; then
    SUDO=""
    if [ "$(id -u)" != "0" ]; then
        if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"; else SUDO=none; fi
    fi
    if [ "$SUDO" != "none" ]; then
        echo "installing dict-freedict-eng-deu (English–German dictionary) ..."
        $SUDO apt-get install -y -qq dict-freedict-eng-deu >/dev/null 2>&1 \
            || { $SUDO apt-get update -qq >/dev/null 2>&1 && $SUDO apt-get install -y -qq dict-freedict-eng-deu >/dev/null 2>&1; }
    fi
fi
[ -f "$INDEX" ] || echo "note: dict-freedict-eng-deu is not installed; English questions will match names only (sudo apt-get install dict-freedict-eng-deu)"
exit 0
