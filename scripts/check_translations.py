"""Fails when a user-visible string has no English translation.

Runs `makemessages` first, so a string added in code or templates but missing from
locale/en/LC_MESSAGES/django.po shows up here (and in the .po, ready to translate).
"""

import os
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "locale" / "en" / "LC_MESSAGES" / "django.po"

subprocess.run(
    [
        sys.executable,
        "manage.py",
        "makemessages",
        "-l",
        "en",
        "--no-obsolete",
        "--no-location",
        "--ignore=.venv/*",
        "--ignore=node_modules/*",
        "--ignore=tests/*",
        "--ignore=bench/*",
    ],
    cwd=ROOT,
    # A development tool: the development settings, explicitly (the defaults are production's).
    env={**os.environ, "DJANGO_DEBUG": os.environ.get("DJANGO_DEBUG", "true")},
    check=True,
    stdout=subprocess.DEVNULL,
)
with PO.open("rb") as handle:
    catalog = read_po(handle)

missing = []
for message in catalog:
    if not message.id:
        continue
    strings = message.string if isinstance(message.string, tuple) else (message.string,)
    if message.fuzzy or not all(strings):
        missing.append(message.id if isinstance(message.id, str) else message.id[0])

if missing:
    print(f"{len(missing)} string(s) without an English translation in {PO.relative_to(ROOT)}:")
    for msgid in missing:
        print(f"  - {msgid!r}")
    sys.exit(1)
print(f"translations: all {sum(1 for m in catalog if m.id)} strings have English text")
