"""Every catalog RXCUI is either confirmed against a named public table or says why not,
and the documentation states the same count of unverified codes (no database)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from openiop.medications import rules

DOC = Path(__file__).resolve().parents[2] / "docs" / "medication-safety.md"
# "owner/repository path/to/file.ext"
SOURCE = re.compile(r"(?P<repo>[\w.-]+/[\w.-]+) (?P<path>[\w./-]+\.(?:sql|tsv|json))")


def _documented_counts() -> tuple[int, int, int]:
    text = DOC.read_text(encoding="utf-8")
    flat = " ".join(text.split())  # the sentence may wrap across lines
    m = re.search(r"(\d+) of the (\d+) catalog entries have a verified RXCUI; "
                  r"(\d+) remain unverified", flat)
    assert m, "docs/medication-safety.md must state the verification counts"
    return int(m.group(1)), int(m.group(2)), int(m.group(3))


def _unverified_section() -> str:
    text = DOC.read_text(encoding="utf-8")
    start = text.index("Unverified RXCUIs")
    return text[start:text.index("\n## ", start)]


class TestRxnormVerification:
    def test_every_entry_has_a_code_a_level_and_a_source_or_a_reason(self):
        for e in rules.catalog().values():
            assert re.fullmatch(r"[0-9]+", e.rxnorm), e.key
            assert e.rxnorm_level in {"IN", "MIN"}, e.key
            assert e.rxnorm_level == ("MIN" if len(e.ingredients) > 1 else "IN"), e.key
            if e.verified:
                # every source names the repository and the file holding the table
                for source in e.verified_by.split("; "):
                    assert SOURCE.search(source), (e.key, source)
                assert not e.unverified_reason, e.key
            else:
                assert not e.verified_by, e.key
                assert len(e.unverified_reason) > 40, e.key
                assert "RxNav" in e.unverified_reason, e.key

    def test_the_documented_counts_match_the_catalog(self):
        cat = rules.catalog().values()
        verified, total, unverified = _documented_counts()
        assert total == len(cat)
        assert verified == sum(e.verified for e in cat)
        assert unverified == sum(not e.verified for e in cat)
        assert verified + unverified == total

    def test_every_unverified_entry_is_named_in_the_documentation(self):
        section = " ".join(_unverified_section().split()).lower()
        for e in rules.catalog().values():
            if not e.verified:
                assert e.name.lower() in section, e.key

    def test_entries_sharing_an_ingredient_share_its_code_and_status(self):
        by_ingredient: dict[str, set[tuple[str, bool]]] = {}
        for e in rules.catalog().values():
            if len(e.ingredients) == 1:
                by_ingredient.setdefault(e.ingredients[0], set()).add((e.rxnorm, e.verified))
        for ingredient, codes in by_ingredient.items():
            assert len(codes) == 1, (ingredient, codes)

    def test_every_cited_table_is_described_in_the_documentation(self):
        doc = " ".join(DOC.read_text(encoding="utf-8").split())
        cited = set()
        for e in rules.catalog().values():
            for m in SOURCE.finditer(e.verified_by):
                cited.add((m["repo"], m["path"]))
        assert len({repo for repo, _ in cited}) >= 3
        for repo, path in cited:
            assert f"`{repo}`" in doc and path.rsplit("/", 1)[-1] in doc, (repo, path)

    @pytest.mark.parametrize("key", ["divalproex", "buprenorphine_naloxone"])
    def test_codes_no_public_table_confirms_at_their_level_are_not_marked_verified(self, key):
        entry = rules.catalog()[key]
        assert entry.verified is False and not entry.verified_by
        assert entry.rxnorm in entry.unverified_reason

    @pytest.mark.parametrize(("key", "code", "table"), [
        ("ibuprofen", "5640", "V6__nsaid_release.sql"),
        ("naproxen", "7258", "V6__nsaid_release.sql"),
        ("buprenorphine", "1819", "V35__opioid_release.sql"),
        ("sertraline", "36437", "V2__initial_data.sql"),
        ("naloxone_nasal", "7242", "V2__initial_data.sql"),
        ("lorazepam", "6470", "pharmgkb.drug.sssom.tsv"),
        ("lisdexamfetamine", "700810", "pharmgkb.drug.sssom.tsv"),
        ("tapentadol", "787390", "codesystem-CDCMMEClinicalConversionFactors.json"),
        ("hydrocodone", "5489", "codesystem-CDCMMEClinicalConversionFactors.json"),
    ])
    def test_verified_codes_name_the_table_that_lists_them(self, key, code, table):
        entry = rules.catalog()[key]
        assert entry.rxnorm == code and entry.verified
        assert table in entry.verified_by
