"""The interaction rule table (no database): every rule fires for the pairs it covers, in
both directions; a sample of safe pairs fires nothing; every rule is cited."""

from __future__ import annotations

import pytest

from openiop.medications import interactions, rules


def facts(key: str, ref: str | None = None, *, alcohol: bool = False, label: str = ""
          ) -> interactions.MedFacts:
    if key == "alcohol_preparation":
        return interactions.facts_for(ref=ref or key, name="Cough syrup with alcohol",
                                      contains_alcohol=True)
    return interactions.facts_for(ref=ref or key, name=rules.catalog()[key].name,
                                  catalog_key=key, contains_alcohol=alcohol, label=label)


def fired(candidate: str, *others: str) -> set[str]:
    return {w.rule_id for w in interactions.interaction_warnings(
        facts(candidate), [facts(o) for o in others])}


# (medication, other medication, rule that must fire). Each row is checked both ways.
TABLE = [
    # opioid + benzodiazepine: any opioid, not only MOUD
    ("oxycodone", "alprazolam", "opioid_benzodiazepine"),
    ("hydrocodone", "clonazepam", "opioid_benzodiazepine"),
    ("morphine", "lorazepam", "opioid_benzodiazepine"),
    ("tramadol", "diazepam", "opioid_benzodiazepine"),
    ("methadone_pain", "alprazolam", "opioid_benzodiazepine"),
    ("buprenorphine_naloxone", "clonazepam", "opioid_benzodiazepine"),
    # opioid + any CNS depressant (the cns_depressant tag)
    ("oxycodone", "zolpidem", "opioid_cns_depressant"),
    ("buprenorphine", "quetiapine", "opioid_cns_depressant"),
    ("tapentadol", "carisoprodol", "opioid_cns_depressant"),
    ("methadone", "cyclobenzaprine", "opioid_cns_depressant"),
    ("morphine", "hydroxyzine", "opioid_cns_depressant"),
    ("oxycodone", "clozapine", "opioid_cns_depressant"),
    # opioid + gabapentinoid
    ("oxycodone", "gabapentin", "opioid_gabapentinoid"),
    ("buprenorphine", "pregabalin", "opioid_gabapentinoid"),
    # QT prolongation
    ("methadone", "citalopram", "methadone_citalopram_qt"),
    ("methadone_pain", "escitalopram", "methadone_citalopram_qt"),
    ("haloperidol", "ondansetron", "qt_combination"),
    ("ziprasidone", "citalopram", "qt_combination"),
    ("methadone", "ziprasidone", "qt_combination"),
    # MAOIs
    ("phenelzine", "sertraline", "maoi_serotonergic"),
    ("tranylcypromine", "venlafaxine", "maoi_serotonergic"),
    ("selegiline_patch", "tramadol", "maoi_serotonergic"),
    ("phenelzine", "sumatriptan", "maoi_serotonergic"),
    ("phenelzine", "linezolid", "maoi_serotonergic"),
    ("tranylcypromine", "methylphenidate", "maoi_stimulant"),
    ("phenelzine", "lisdexamfetamine", "maoi_stimulant"),
    ("selegiline_patch", "bupropion", "maoi_stimulant"),
    ("phenelzine", "atomoxetine", "maoi_stimulant"),
    # serotonergic combinations
    ("tramadol", "sertraline", "tramadol_serotonergic"),
    ("tramadol", "duloxetine", "tramadol_serotonergic"),
    ("linezolid", "escitalopram", "linezolid_serotonergic"),
    ("sumatriptan", "fluoxetine", "triptan_serotonergic"),
    ("trazodone", "sertraline", "serotonergic_combination"),
    # lithium
    ("lithium", "ibuprofen", "lithium_nsaid"),
    ("lithium", "naproxen", "lithium_nsaid"),
    ("lithium", "lisinopril", "lithium_ace_arb"),
    ("lithium", "losartan", "lithium_ace_arb"),
    ("lithium", "hydrochlorothiazide", "lithium_thiazide"),
    # clozapine
    ("clozapine", "lorazepam", "clozapine_benzodiazepine"),
    ("clozapine", "fluvoxamine", "clozapine_cyp1a2"),
    ("clozapine", "ciprofloxacin", "clozapine_cyp1a2"),
    # disulfiram and metronidazole
    ("disulfiram", "metronidazole", "disulfiram_metronidazole"),
    ("disulfiram", "alcohol_preparation", "disulfiram_alcohol_preparation"),
    ("metronidazole", "alcohol_preparation", "metronidazole_alcohol_preparation"),
    # naltrexone and opioid agonists
    ("naltrexone_xr", "buprenorphine", "naltrexone_opioid_agonist"),
    ("naltrexone", "methadone", "naltrexone_opioid_agonist"),
    ("naltrexone_xr", "oxycodone", "naltrexone_opioid_agonist"),
    ("naltrexone", "tramadol", "naltrexone_opioid_agonist"),
]

SAFE = [
    ("sertraline", "bupropion"), ("sertraline", "lamotrigine"), ("naltrexone", "acamprosate"),
    ("buprenorphine_naloxone", "naloxone_nasal"), ("methylphenidate", "sertraline"),
    ("oxycodone", "ibuprofen"), ("lisinopril", "sertraline"), ("metronidazole", "sertraline"),
    ("phenelzine", "lamotrigine"), ("disulfiram", "naltrexone"),
    ("nicotine_patch", "varenicline"), ("haloperidol", "lorazepam"),
    ("ondansetron", "ibuprofen"), ("lithium", "lamotrigine"), ("gabapentin", "sertraline"),
    ("buprenorphine", "acamprosate"), ("losartan", "hydrochlorothiazide"),
]


@pytest.mark.parametrize("a,b,rule_id", TABLE)
def test_every_pair_in_the_table_fires_both_ways(a, b, rule_id):
    if b == "alcohol_preparation":
        assert rule_id in fired(a, b)
        warnings = interactions.interaction_warnings(facts(b), [facts(a)])
        assert [w.rule_id for w in warnings] == [rule_id]
        return
    assert rule_id in fired(a, b)
    assert rule_id in fired(b, a)


@pytest.mark.parametrize("a,b", SAFE)
def test_safe_pairs_fire_nothing(a, b):
    assert fired(a, b) == set() and fired(b, a) == set()


@pytest.mark.parametrize("rule", rules.interaction_rules(), ids=lambda r: r["id"])
def test_every_rule_is_complete_cited_and_its_example_fires(rule):
    assert rule["severity"] in {"severe", "high", "moderate"}
    assert rule["mechanism"].strip() and rule["action"].strip()
    source = rule["source"].lower()
    assert any(s in source for s in ("label", "fda", "doi:", "circulation")), rule["id"]
    assert "blog" not in source and "support" not in source
    first, *rest = rule["example"]
    assert rule["id"] in fired(first, *rest)
    if rule["kind"] != "single":  # a standing precaution has no pair
        assert any(rule["id"] == row[2] for row in TABLE), "each rule is in the table"


def test_the_clozapine_monitoring_reminder_fires_for_clozapine_alone():
    assert fired("clozapine") == {"clozapine_anc"}
    assert "clozapine_anc" not in fired("sertraline", "clozapine")


def test_benzodiazepines_and_gabapentinoids_get_their_specific_rule_not_the_general_one():
    assert fired("oxycodone", "alprazolam") == {"opioid_benzodiazepine"}
    assert fired("oxycodone", "gabapentin") == {"opioid_gabapentinoid"}


def test_methadone_with_citalopram_is_severe_and_replaces_the_general_qt_warning():
    warnings = interactions.interaction_warnings(facts("citalopram"), [facts("methadone")])
    by_id = {w.rule_id: w for w in warnings}
    assert by_id["methadone_citalopram_qt"].severity == "severe"
    assert "qt_combination" not in by_id


def test_a_specific_serotonergic_rule_replaces_the_general_count():
    assert fired("tramadol", "sertraline") == {"tramadol_serotonergic"}


def test_serotonergic_count_needs_two_and_the_candidate_must_be_serotonergic():
    assert "serotonergic_combination" not in fired("sertraline", "bupropion")
    assert "serotonergic_combination" not in fired("bupropion", "sertraline", "trazodone")


def test_a_free_text_medication_without_a_catalog_match_has_no_tags():
    unknown = interactions.facts_for(ref="x", name="Omeprazole")
    assert not unknown.checked
    assert interactions.interaction_warnings(unknown, [facts("oxycodone")]) == []


def test_warning_names_the_medications_says_what_to_do_and_cites_its_source():
    (w,) = [w for w in interactions.interaction_warnings(
        facts("naltrexone"), [facts("buprenorphine", label="stopped Nov 2, in effect")])
        if w.rule_id == "naltrexone_opioid_agonist"]
    assert "Naltrexone (oral)" in w.involved and "Buprenorphine (stopped Nov 2" in w.involved
    assert "What to do:" in w.message and "dailymed" in w.source.lower()
