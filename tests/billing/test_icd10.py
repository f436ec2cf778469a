"""The offline ICD-10-CM index: look-up, search by code and by words, billable leaves."""

from __future__ import annotations

from openiop.billing import icd10


def test_lookup_accepts_codes_with_or_without_the_dot_in_any_case():
    found = icd10.lookup("f331")
    assert found is not None
    assert found.code == "F33.1"
    assert found.description == "Major depressive disorder, recurrent, moderate"
    assert found.billable is True
    assert icd10.lookup("F33.1") == found


def test_a_category_with_children_is_not_billable_and_unknown_codes_are_none():
    category = icd10.lookup("F33")
    assert category is not None and category.billable is False
    assert icd10.lookup("F99.999") is None
    assert icd10.lookup("hello") is None


def test_search_by_code_prefix_lists_the_category_and_its_codes_in_order():
    codes = [r.code for r in icd10.search("F10.2", limit=50)]
    assert codes[0] == "F10.2"
    assert "F10.20" in codes and "F10.21" in codes
    assert codes == sorted(codes, key=lambda c: c.replace(".", ""))


def test_search_by_words_matches_every_word_as_a_prefix_with_billable_codes_first():
    results = icd10.search("recurrent depress moderate", limit=10)
    assert "F33.1" in [r.code for r in results]
    for r in results:
        text = r.description.lower()
        assert "recurrent" in text and "depress" in text and "moderate" in text
    billable = [r.billable for r in results]
    assert billable == sorted(billable, reverse=True)


def test_search_of_nonsense_or_empty_text_finds_nothing():
    assert icd10.search("qqqzzz", limit=5) == []
    assert icd10.search("   ", limit=5) == []


def test_the_code_set_version_names_the_release_the_package_ships():
    assert "FY2026" in icd10.CODE_SET_VERSION
    import simple_icd_10_cm as cm

    assert "April-1-2026" in cm.simple_icd_10_cm._classification_data_package_file_name


def test_the_parsed_index_is_kept_for_the_next_process_and_survives_a_broken_cache(
    settings, tmp_path, monkeypatch
):
    """Each process used to parse the package's XML and index it (seconds of CPU on every
    web worker's first diagnosis search); the parsed index is kept in var/cache."""
    real = icd10.index()
    parsed = (real.codes, real.desc, real.leaf, real.words)
    settings.VAR_DIR = tmp_path
    monkeypatch.setattr(icd10, "_parse_package", lambda: parsed)
    first = icd10._Index()
    (cache,) = (tmp_path / "cache").glob("icd10cm-index-*.marshal")

    def must_not_parse():
        raise AssertionError("the package was parsed although the cache holds the index")

    monkeypatch.setattr(icd10, "_parse_package", must_not_parse)
    second = icd10._Index()
    assert second.lookup("f331") == first.lookup("F33.1") == real.lookup("F33.1")
    assert second.search("recurrent major depressive", 3) == real.search(
        "recurrent major depressive", 3
    )
    # A damaged file is not trusted: the index is built again and the file rewritten.
    cache.write_bytes(b"\x00garbage")
    monkeypatch.setattr(icd10, "_parse_package", lambda: parsed)
    assert icd10._Index().lookup("F33.1") == real.lookup("F33.1")
    assert cache.stat().st_size > 1_000_000
