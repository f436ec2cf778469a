"""ICD-10-CM look-up and search from the offline `simple-icd-10-cm` package.

simple-icd-10-cm 1.5.0 ships the CMS/NCHS ICD-10-CM tabular list of the April 1, 2026
update to fiscal year 2026 (data files `icd10c-tabular-April-1-2026.xml` and
`code-list-April-2026.txt` inside the package). Every diagnosis stores CODE_SET_VERSION so a
later release can be told apart. Source of the code set:
https://www.cdc.gov/nchs/icd/icd-10-cm/files.html (NCHS ICD-10-CM files).

Only "leaf" codes (a category or subcategory with no more specific child) are valid on a
claim: ICD-10-CM Official Guidelines for Coding and Reporting FY2026, section I.B.2
("a code is invalid if it has not been coded to the full number of characters required").

The package parses its 9.7 MB XML on import (about 2 s), so it is imported lazily, once, and
a small in-memory index (code -> description, word -> codes) is built on first use.
"""

from __future__ import annotations

import bisect
import re
import threading
from dataclasses import dataclass

CODE_SET_VERSION = "ICD-10-CM FY2026 (April 1, 2026 update)"

_WORD = re.compile(r"[a-z0-9]+")
_CODE_LIKE = re.compile(r"^[A-Za-z][0-9][0-9A-Za-z](\.?[0-9A-Za-z]{0,4})?$")


@dataclass(frozen=True)
class IcdCode:
    code: str  # with the dot
    description: str
    billable: bool


class _Index:
    def __init__(self) -> None:
        import simple_icd_10_cm as cm

        self.codes: list[str] = []  # sorted, with dot; categories and subcategories only
        self.plain: list[str] = []  # same order, without dot, upper case
        self.desc: dict[str, str] = {}
        self.leaf: dict[str, bool] = {}
        words: dict[str, set[int]] = {}
        for code in cm.get_all_codes(with_dots=True):
            if not cm.is_category_or_subcategory(code):
                continue
            self.codes.append(code)
        self.codes.sort(key=lambda c: c.replace(".", ""))
        for i, code in enumerate(self.codes):
            self.plain.append(code.replace(".", "").upper())
            text = cm.get_description(code)
            self.desc[code] = text
            self.leaf[code] = cm.is_leaf(code)
            for word in set(_WORD.findall(text.lower())):
                words.setdefault(word, set()).add(i)
        self.words = words
        self.word_list = sorted(words)

    def lookup(self, code: str) -> IcdCode | None:
        plain = code.strip().upper().replace(".", "")
        i = bisect.bisect_left(self.plain, plain)
        if i < len(self.plain) and self.plain[i] == plain:
            real = self.codes[i]
            return IcdCode(real, self.desc[real], self.leaf[real])
        return None

    def _prefix_ids(self, word: str) -> set[int]:
        ids: set[int] = set()
        i = bisect.bisect_left(self.word_list, word)
        while i < len(self.word_list) and self.word_list[i].startswith(word):
            ids |= self.words[self.word_list[i]]
            i += 1
        return ids

    def search(self, query: str, limit: int) -> list[IcdCode]:
        query = query.strip()
        if not query:
            return []
        if _CODE_LIKE.match(query):
            plain = query.upper().replace(".", "")
            i = bisect.bisect_left(self.plain, plain)
            found: list[IcdCode] = []
            while i < len(self.plain) and self.plain[i].startswith(plain) and len(found) < limit:
                real = self.codes[i]
                found.append(IcdCode(real, self.desc[real], self.leaf[real]))
                i += 1
            if found:
                return found
        terms = _WORD.findall(query.lower())
        if not terms:
            return []
        ids: set[int] | None = None
        for term in sorted(terms, key=len, reverse=True):
            hits = self._prefix_ids(term)
            ids = hits if ids is None else ids & hits
            if not ids:
                return []
        assert ids is not None
        # Billable codes first, then shorter (more general) descriptions, then code order.
        ranked = sorted(ids, key=lambda i: (not self.leaf[self.codes[i]],
                                            len(self.desc[self.codes[i]]), i))
        return [IcdCode(self.codes[i], self.desc[self.codes[i]], self.leaf[self.codes[i]])
                for i in ranked[:limit]]


_index: _Index | None = None
_lock = threading.Lock()


def index() -> _Index:
    global _index
    if _index is None:
        with _lock:
            if _index is None:
                _index = _Index()
    return _index


def lookup(code: str) -> IcdCode | None:
    """The code (with or without its dot, any case) if it is an ICD-10-CM category or subcategory."""
    return index().lookup(code)


def search(query: str, *, limit: int = 20) -> list[IcdCode]:
    """Codes starting with `query` when it looks like a code, else codes whose description
    contains every word of `query` (as word prefixes); billable codes first."""
    return index().search(query, limit)
