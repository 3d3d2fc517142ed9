"""Control characters: invisible, typed by no one, brought by pasted text and by bots.

One definition, Unicode's "Cc" (C0, DEL and C1), used to drop them from what only machines
write (a User-Agent header, a search a bot sends) and to refuse them in readers' forms, where
a comment keeps its line breaks and tabs. The text of articles is held only to what XML 1.0
refuses, the reason its check exists (the feeds): refusing DEL and C1 there too would turn
away an edit to an article saved with one before.
"""

import re

CONTROL_CHARACTER = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# What XML 1.0 cannot hold: C0 but tab, line feed and carriage return, for which Django's
# feed refuses to write a whole feed, and the noncharacters U+FFFE and U+FFFF (a byte-order
# mark read backwards, a converter's "unknown"), which it writes, making the feed one that
# feed readers reject whole. (Lone surrogates, also refused, cannot reach the database.)
# A pattern, not compiled, as the model validators that use it are written into migrations.
XML_REFUSED_CHARACTER = r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]"


def has_control_characters(text, *, allowed=frozenset()):
    return any(char not in allowed for char in CONTROL_CHARACTER.findall(text))
