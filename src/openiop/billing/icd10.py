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
a small in-memory index (code -> description, word -> codes) is built on first use and kept
in var/cache for the next process.
"""

from __future__ import annotations

import bisect
import re
import threading
from dataclasses import dataclass

from openiop.core.filecache import load_or_build

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
        # Parsing the package's XML and indexing ~97,000 codes costs seconds of CPU per
        # process (each web worker's first diagnosis search, each test worker): the parsed
        # index is kept in var/cache for the next process (core.filecache).
        codes, desc, leaf, words = load_or_build(
            "icd10cm-index", "simple-icd-10-cm", _parse_package, _looks_like_an_index
        )
        self.codes: list[str] = codes  # sorted, with dot; categories and subcategories only
        self.plain: list[str] = [c.replace(".", "").upper() for c in codes]  # same order
        self.desc: dict[str, str] = desc
        self.leaf: dict[str, bool] = leaf
        self.words: dict[str, set[int]] = words
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
        ranked = sorted(
            ids, key=lambda i: (not self.leaf[self.codes[i]], len(self.desc[self.codes[i]]), i)
        )
        return [
            IcdCode(self.codes[i], self.desc[self.codes[i]], self.leaf[self.codes[i]])
            for i in ranked[:limit]
        ]


def _parse_package() -> tuple[list[str], dict[str, str], dict[str, bool], dict[str, set[int]]]:
    """(codes sorted without their dots, code -> description, code -> leaf, word -> code
    positions) from the package's tabular list."""
    import simple_icd_10_cm as cm

    codes = sorted(
        (c for c in cm.get_all_codes(with_dots=True) if cm.is_category_or_subcategory(c)),
        key=lambda c: c.replace(".", ""),
    )
    desc: dict[str, str] = {}
    leaf: dict[str, bool] = {}
    words: dict[str, set[int]] = {}
    for i, code in enumerate(codes):
        text = cm.get_description(code)
        desc[code] = text
        leaf[code] = cm.is_leaf(code)
        for word in set(_WORD.findall(text.lower())):
            words.setdefault(word, set()).add(i)
    return codes, desc, leaf, words


def _looks_like_an_index(value: object) -> bool:
    return (
        isinstance(value, tuple)
        and len(value) == 4
        and isinstance(value[0], list)
        and len(value[0]) > 50_000
        and all(isinstance(v, dict) for v in value[1:])
        and len(value[1]) == len(value[2]) > 50_000
    )


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
