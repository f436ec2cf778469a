"""A search page writes its resources without building the fhir.resources models
(mapping/canonical.py, as the bulk export does): every entry must be exactly what the
validated rendering gives, for every resource type, matches and included resources alike."""

from __future__ import annotations

import contextlib
import json

from openiop.fhir import engine
from openiop.fhir.mapping import canonical as canonical_module
from openiop.fhir.mapping.canonical import Unsupported
from openiop.fhir.registry import SPECS
from openiop.participants.models import Participant
from tests.conftest import login

from .conftest import token_client


def _includes(rtype: str) -> list[str]:
    """Every `_include` of the type and every `_revinclude` of it."""
    spec = SPECS[rtype]
    return [f"_include={rtype}:{param}" for param in spec.links] + [
        f"_revinclude={source.name}:{param}" for source in SPECS.values()
        for param, link in source.links.items() if link.target == rtype]


def _entries(client, url: str) -> list[str]:
    response = client.get(url)
    assert response.status_code == 200, (url, response.content[:300])
    # json keeps the keys' order: the text compared is the text sent
    return [json.dumps(e) for e in response.json().get("entry", [])]


def test_search_pages_write_every_type_as_validation_writes_it(populated, world, hie,
                                                               monkeypatch):
    """Every type, searched by the program's staff (a session) and by an app holding a Part 2
    consent (labelled resources), with every `_include` / `_revinclude`: the page's entries
    are the same text as with the full validation, and none of them needed it."""
    Participant.objects.filter(pk=world.participant.pk).update(
        sex_at_birth="ASKU", gender_identity="33791000087105", administrative_sex="other",
        address1="1 Main St", emergency_contact_name="Jo Doe",
        emergency_contact_phone="(614) 555-0100")
    written: list[str] = []
    fell_back: list[str] = []
    real = canonical_module.canonical

    def counting(model, data):
        try:
            out = real(model, data)
        except Unsupported:
            fell_back.append(model.__name__)
            raise
        written.append(model.__name__)
        return out

    monkeypatch.setattr("openiop.fhir.mapping.common.canonical", counting)
    clients = {"staff": login(world.director), "app": token_client(world.director, hie)}
    seen: dict[str, int] = {}
    labelled = 0
    for who, client in clients.items():
        for rtype in SPECS:
            for query in ["_count=1000", "&".join(["_count=1000", *_includes(rtype)])]:
                url = f"/fhir/R4/{rtype}?{query}"
                fast = _entries(client, url)
                with monkeypatch.context() as checked:
                    checked.setattr(engine, "unchecked", contextlib.nullcontext)
                    before = len(written)
                    slow = _entries(client, url)
                    assert len(written) == before, "the validated rendering used the writer"
                assert fast == slow, (who, url)
                for entry in fast:
                    name = json.loads(entry)["resource"]["resourceType"]
                    seen[name] = seen.get(name, 0) + 1
                    labelled += "42CFRPart2" in entry
    assert set(seen) == set(SPECS), set(SPECS) - set(seen)
    assert labelled, "no Part 2 resource was compared"
    assert len(written) >= sum(seen.values())  # every entry went through the writer
    assert fell_back == []
