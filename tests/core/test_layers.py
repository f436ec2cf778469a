"""The app map holds: the import contracts in pyproject.toml (`[tool.importlinter]`), checked
by import-linter over the source tree (docs/DEVELOPING.md, "The app map")."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from importlinter import api  # noqa: F401 - configures import-linter (its readers)
from importlinter.application import use_cases

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def _options():
    use_cases._register_built_in_contract_types()
    return use_cases.read_user_options(str(PYPROJECT))


def _report(options):
    return use_cases.create_report(options, cache_dir=None)


def _broken(report) -> list[str]:
    return sorted(contract.name for contract, check in report.get_contracts_and_checks()
                  if not check.kept)


def test_every_contract_of_the_app_map_is_kept():
    report = _report(_options())
    names = [contract.name for contract, _ in report.get_contracts_and_checks()]
    assert {"core is the bottom: it imports no other OpenIOP app",
            "the demo clinic is the top: no app imports it",
            "the scheduling engine runs without Django (and so without the database)",
            "the JSON API and FHIR sit above the apps: no app imports them",
            "intake above care: care imports nothing from intake",
            "outcomes above intake: intake imports nothing from outcomes"} <= set(names)
    assert _broken(report) == [], "an import breaks the app map: run `lint-imports` for the chain"


@pytest.mark.parametrize("contract_id", ["core-bottom", "demo-top", "api-fhir-above-apps"])
def test_a_contract_without_its_known_exceptions_is_broken(contract_id):
    # The check sees real imports: the same contract with its listed exceptions removed fails,
    # so a contract that is kept is kept by the code, not by a contract matching nothing.
    options = copy.deepcopy(_options())
    contract = next(c for c in options.contracts_options if c["id"] == contract_id)
    assert contract["ignore_imports"], "a contract without exceptions proves nothing here"
    contract["ignore_imports"] = []
    options.contracts_options = [contract]
    assert _broken(_report(options)) == [contract["name"]]


def test_the_engine_contract_catches_django():
    # Pointed at a module that does use Django, the engine's contract breaks.
    options = copy.deepcopy(_options())
    contract = next(c for c in options.contracts_options if c["id"] == "engine-pure")
    contract["source_modules"] = ["openiop.scheduling.planning"]
    options.contracts_options = [contract]
    assert _broken(_report(options)) == [contract["name"]]


@pytest.mark.parametrize("contract_id", ["intake-over-care", "outcomes-over-intake"])
def test_a_layer_contract_is_kept_without_exceptions_and_catches_the_other_way(contract_id):
    # The two layers hold with no listed exception; turned upside down the contract breaks
    # (the upper app does import the lower one), so it is kept by the code.
    options = copy.deepcopy(_options())
    contract = next(c for c in options.contracts_options if c["id"] == contract_id)
    assert not contract.get("ignore_imports")
    contract["layers"] = list(reversed(contract["layers"]))
    options.contracts_options = [contract]
    assert _broken(_report(options)) == [contract["name"]]
