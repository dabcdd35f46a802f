#!/usr/bin/env python3
"""Writes initials.dat and initials_alt.txt beside this file: the pinyin
initial of every CJK unified ideograph U+4E00..U+9FFF (one ASCII byte each,
lower case; `.` for none), and for a character with several readings whose
initials differ, its other initials (one line each: the character, then the
letters). Made with pypinyin (`pip install pypinyin`), then committed: the
phone core reads the tables, it does not run this script."""
from pathlib import Path

from pypinyin import Style, pinyin

FIRST, LAST = 0x4E00, 0x9FFF
here = Path(__file__).parent
main = bytearray()
alt = []
for cp in range(FIRST, LAST + 1):
    ch = chr(cp)
    readings = pinyin(ch, style=Style.FIRST_LETTER, heteronym=True, errors=lambda _: [["."]])[0]
    letters = []
    for r in readings:
        c = r[:1].lower()
        if c.isascii() and c.isalpha() and c not in letters:
            letters.append(c)
    main.append(ord(letters[0]) if letters else ord("."))
    if len(letters) > 1:
        alt.append(ch + "".join(letters[1:]))
(here / "initials.dat").write_bytes(bytes(main))
(here / "initials_alt.txt").write_text("\n".join(alt) + "\n", encoding="utf-8")
