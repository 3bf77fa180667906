"""Check that zh-Hans (and en) translations are complete.

1. Runs `makemessages` (needs GNU gettext's xgettext) into the real catalogue, then compares:
   every msgid found in the code must be in the catalogue (new strings fail the check).
2. Every entry of the zh_Hans catalogue is translated, not fuzzy, and keeps its placeholders.
The catalogue files are restored afterwards, so the check changes nothing.
Usage: .venv/bin/python scripts/check_translations.py [--update]  (--update keeps the refreshed .po)
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "src" / "marketdesk" / "locale"
PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|%[sdif]|\{\w*\}")


def run_makemessages() -> None:
    env = dict(os.environ, DEBUG="true", TESTING="1")
    for domain, extra in (("django", []), ("djangojs", ["-e", "js"])):
        if domain == "djangojs":
            continue  # no translatable JavaScript files yet
        subprocess.run(  # noqa: S603 (our own command, fixed arguments)
            [
                str(ROOT / ".venv" / "bin" / "marketdesk"),
                "makemessages",
                "-l",
                "zh_Hans",
                "-l",
                "en",
                "-d",
                domain,
                "--no-obsolete",
                "--ignore",
                "node_modules/*",
                "--ignore",
                ".venv/*",
                "--ignore",
                "tests/*",
                "--ignore",
                "bench/*",
                *extra,
            ],
            cwd=ROOT / "src" / "marketdesk",
            env=env,
            check=True,
            capture_output=True,
        )


def problems(po_path: Path, *, require_translation: bool) -> list[str]:
    found = []
    for entry in polib.pofile(str(po_path)):
        if entry.obsolete:
            continue
        where = f"{po_path.parent.parent.name}: {entry.msgid[:60]!r}"
        if "fuzzy" in entry.flags:
            found.append(f"{where}: fuzzy")
        if not require_translation:
            continue
        translations = (
            [entry.msgstr] if not entry.msgid_plural else list(entry.msgstr_plural.values())
        )
        if not all(t.strip() for t in translations):
            found.append(f"{where}: not translated")
            continue
        # A translation must not add a placeholder the msgid lacks (KeyError at runtime), so
        # the check runs even when the msgid has none.
        if not entry.msgid_plural:
            forms = [(entry.msgstr, set(PLACEHOLDER.findall(entry.msgid)), True)]
        else:
            # The last plural form carries the msgid_plural placeholders (zh has only form 0);
            # earlier forms may drop them (English "One error") but must not add unknown ones.
            plural = set(PLACEHOLDER.findall(entry.msgid_plural))
            allowed = plural | set(PLACEHOLDER.findall(entry.msgid))
            last = max(entry.msgstr_plural)
            forms = [
                (text, plural if index == last else allowed, index == last)
                for index, text in entry.msgstr_plural.items()
            ]
        for text, wanted, exact in forms:
            got = set(PLACEHOLDER.findall(text))
            if (got != wanted) if exact else not got <= wanted:
                found.append(f"{where}: placeholders {sorted(wanted)} vs {sorted(got)}")
    return found


def fill_english(po_path: Path) -> None:
    """English msgids are the English text. An empty msgstr would make Django fall back to the
    default language (zh-hans) for English users, so English entries carry their msgid.
    Always overwrite: msgmerge fills a new msgid with the text of a similar old one and marks it
    fuzzy, and that stale English must not survive the fuzzy flag being dropped."""
    catalogue = polib.pofile(str(po_path))
    for entry in catalogue:
        if entry.msgid_plural:
            entry.msgstr_plural = {0: entry.msgid, 1: entry.msgid_plural}
        else:
            entry.msgstr = entry.msgid
        entry.previous_msgid = entry.previous_msgid_plural = None
        if "fuzzy" in entry.flags:
            entry.flags.remove("fuzzy")
    catalogue.save(str(po_path))


def main() -> int:
    update = "--update" in sys.argv
    if shutil.which("xgettext") is None:
        print("xgettext (GNU gettext) is missing: apt-get install gettext")
        return 2
    backup = Path(tempfile.mkdtemp())
    if LOCALE.exists():
        shutil.copytree(LOCALE, backup / "locale")
    try:
        zh = LOCALE / "zh_Hans" / "LC_MESSAGES" / "django.po"
        before = {e.msgid for e in polib.pofile(str(zh))} if zh.exists() else set()
        run_makemessages()
        after = {e.msgid for e in polib.pofile(str(zh)) if not e.obsolete}
        new = sorted(after - before)
        issues = [f"zh_Hans: not in the catalogue yet: {m[:70]!r}" for m in new]
        issues += problems(zh, require_translation=True)
        en = LOCALE / "en" / "LC_MESSAGES" / "django.po"
        if update:
            fill_english(en)
        issues += problems(en, require_translation=True)
    finally:
        if not update:
            shutil.rmtree(LOCALE, ignore_errors=True)
            if (backup / "locale").exists():
                shutil.copytree(backup / "locale", LOCALE)
        shutil.rmtree(backup, ignore_errors=True)
    for line in issues[:200]:
        print(line)
    print(f"{len(issues)} translation problem(s)")
    return 1 if issues else 0


if __name__ == "__main__":
    sys.exit(main())
