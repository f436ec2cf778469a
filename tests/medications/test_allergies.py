"""Allergies and intolerances: recording, the "no known drug allergies" statement, the
warnings an order raises, the pages and the API."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from openiop.accounts.models import Role
from openiop.audit.models import AccessEvent
from openiop.core.exceptions import Conflict, NotPermitted
from openiop.medications import services
from openiop.medications.models import (
    Allergy,
    AllergyStatement,
    InteractionAcknowledgement,
    MedicationOrder,
)
from tests import factories as f
from tests.conftest import login

from .conftest import order

TODAY = timezone.localdate


def allergy(med, **kw) -> Allergy:
    data = {"reaction": "Hives", "severity": "moderate", "noted_on": TODAY()} | kw
    return services.allergy_record(actor=med.w.clinician, participant=med.participant, **data)


def warnings_for(call) -> dict[str, object]:
    with pytest.raises(services.InteractionWarningsPending) as exc:
        call()
    return {w.rule_id: w for w in exc.value.warnings}


class TestRecording:
    def test_catalog_substance_with_class_is_recorded_and_audited(self, med):
        row = allergy(med, catalog_key="ibuprofen", drug_class="nsaid", severity="severe",
                      reaction="Angioedema")
        assert (row.substance, row.status, row.kind) == ("Ibuprofen", "active", "allergy")
        assert AccessEvent.objects.filter(object_type="allergy", action="create",
                                          object_id=str(row.code)).exists()

    def test_free_text_is_matched_to_the_catalog_when_it_can_be(self, med):
        assert allergy(med, substance="Percocet").catalog_key == "oxycodone"
        assert allergy(med, substance="Penicillin").catalog_key == ""

    @pytest.mark.parametrize("kw,field", [
        ({"substance": ""}, "substance"), ({"substance": "Penicillin", "reaction": " "}, "reaction"),
        ({"substance": "Penicillin", "severity": "awful"}, "severity"),
        ({"substance": "Penicillin", "drug_class": "weird"}, "drug_class"),
        ({"substance": "Penicillin", "kind": "maybe"}, "kind"),
        ({"catalog_key": "nope"}, "catalog_key"),
    ])
    def test_bad_input_names_the_field_and_saves_nothing(self, med, kw, field):
        with pytest.raises(ValidationError) as exc:
            allergy(med, **kw)
        assert set(exc.value.message_dict) == {field}
        assert not Allergy.objects.exists()

    def test_a_future_date_is_refused(self, med):
        with pytest.raises(ValidationError) as exc:
            allergy(med, substance="Penicillin", noted_on=TODAY() + timedelta(days=1))
        assert set(exc.value.message_dict) == {"noted_on"}

    def test_front_desk_cannot_record(self, med):
        desk = f.staff(med.w.org, Role.FRONT_DESK)
        with pytest.raises(NotPermitted):
            services.allergy_record(actor=desk, participant=med.participant, substance="X",
                                    reaction="Rash", severity="mild", noted_on=TODAY())

    def test_no_known_allergies_is_refused_while_an_allergy_is_active(self, med):
        row = allergy(med, substance="Penicillin")
        with pytest.raises(ValidationError):
            services.no_known_allergies_record(actor=med.w.clinician, participant=med.participant)
        services.allergy_set_status(actor=med.w.clinician, allergy=row, version=1,
                                    status="entered_in_error")
        statement = services.no_known_allergies_record(actor=med.w.clinician,
                                                       participant=med.participant)
        assert statement.stated_on == TODAY()

    def test_status_change_uses_the_version(self, med):
        row = allergy(med, substance="Penicillin")
        services.allergy_set_status(actor=med.w.clinician, allergy=row, version=1,
                                    status="inactive")
        with pytest.raises(Conflict):
            services.allergy_set_status(actor=med.w.clinician, allergy=row, version=1,
                                        status="active")
        assert Allergy.objects.get().status == "inactive"


class TestOrderWarnings:
    def test_an_order_with_the_allergy_ingredient_needs_an_acknowledged_reason(self, med):
        row = allergy(med, substance="Percocet", severity="severe", reaction="Anaphylaxis")
        found = warnings_for(lambda: order(med, "oxycodone", dose="5"))
        w = found[f"allergy_{row.pk}"]
        assert w.severity == "severe" and "Anaphylaxis" in w.mechanism
        assert MedicationOrder.objects.count() == 0
        o = order(med, "oxycodone", dose="5", acks={f"allergy_{row.pk}": "Reaction was to "
                                                    "acetaminophen component, confirmed"})
        assert InteractionAcknowledgement.objects.get(order=o).rule_id == f"allergy_{row.pk}"

    def test_a_class_allergy_covers_the_whole_class(self, med):
        row = allergy(med, catalog_key="ibuprofen", drug_class="nsaid")
        assert f"allergy_{row.pk}" in warnings_for(lambda: order(med, "naproxen", dose="250",
                                                               frequency="bid"))
        ingredient_only = allergy(med, catalog_key="oxycodone")
        assert order(med, "hydrocodone", dose="5").pk  # same class, ingredient-only allergy
        assert ingredient_only.drug_class == ""

    def test_an_uncoded_allergy_matches_an_uncoded_order_by_name(self, med):
        row = allergy(med, substance="Penicillin")
        found = warnings_for(lambda: services.order_create(
            actor=med.prescriber, participant=med.participant, data={
                "name": "Penicillin VK 500 mg", "source": "clinic", "prescriber": med.prescriber,
                "dose": Decimal("500"), "unit": "mg", "route": "oral", "frequency": "qid",
                "start_date": TODAY()}))
        assert set(found) == {f"allergy_{row.pk}"}

    def test_an_inactive_allergy_does_not_warn(self, med):
        row = allergy(med, catalog_key="sertraline")
        services.allergy_set_status(actor=med.w.clinician, allergy=row, version=1,
                                    status="resolved")
        assert order(med, "sertraline").pk


class TestMissingStatement:
    def test_prescribing_without_any_allergy_statement_asks_for_one(self, med):
        AllergyStatement.objects.all().delete()
        found = warnings_for(lambda: order(med, "sertraline"))
        assert set(found) == {"allergy_status_unknown"}
        assert "no known drug allergies" in found["allergy_status_unknown"].action
        o = order(med, "sertraline", acks={"allergy_status_unknown": "Participant unsure; "
                                           "pharmacy asked"})
        assert o.acknowledgements.get().rule_id == "allergy_status_unknown"

    def test_recording_an_outside_prescription_does_not_ask(self, med):
        AllergyStatement.objects.all().delete()
        services.order_create(actor=med.w.clinician, participant=med.participant, data={
            "catalog_key": "sertraline", "source": "outside", "outside_prescriber": "Dr. Lee",
            "dose": Decimal("50"), "unit": "mg", "route": "oral", "frequency": "daily",
            "start_date": TODAY()})

    def test_a_recorded_allergy_is_an_allergy_statement(self, med):
        AllergyStatement.objects.all().delete()
        allergy(med, substance="Penicillin")
        assert order(med, "sertraline").pk


class TestPages:
    def url(self, med) -> str:
        return reverse("medications:allergies", kwargs={"code": med.participant.code})

    def test_page_lists_allergies_and_records_one(self, med):
        client = login(med.w.clinician)
        response = client.post(self.url(med), {"catalog_key": "", "substance": "Penicillin",
                                               "kind": "allergy", "reaction": "Hives",
                                               "severity": "moderate",
                                               "noted_on": TODAY().isoformat()})
        assert response.status_code == 302
        body = client.get(self.url(med)).content.decode()
        assert "Penicillin" in body and "Hives" in body
        assert med.participant.legal_last_name in body

    def test_bad_input_is_shown_with_what_was_typed(self, med):
        client = login(med.w.clinician)
        response = client.post(self.url(med), {"substance": "Latex-ish thing", "kind": "allergy",
                                               "reaction": "", "severity": "mild",
                                               "noted_on": TODAY().isoformat()})
        assert response.status_code == 422
        body = response.content.decode()
        assert "Latex-ish thing" in body and "Reaction" in body
        assert not Allergy.objects.exists()

    def test_the_tab_prompts_when_there_is_no_statement(self, med):
        AllergyStatement.objects.all().delete()
        client = login(med.prescriber)
        tab = reverse("medications:participant_medications", kwargs={"code": med.participant.code})
        assert "No allergy statement on file" in client.get(tab).content.decode()

    def test_the_list_query_count_does_not_grow(self, med):
        client = login(med.w.clinician)
        AllergyStatement.objects.all().delete()
        allergy(med, substance="Penicillin")
        with CaptureQueriesContext(connection) as few:
            assert client.get(self.url(med)).status_code == 200
        for name in ("Sulfa", "Latex", "Codeine", "Iodine"):
            allergy(med, substance=name)
        with CaptureQueriesContext(connection) as many:
            assert client.get(self.url(med)).status_code == 200
        assert len(many) == len(few)

    def test_another_organization_gets_404(self, med):
        assert login(med.w.outsider).get(self.url(med)).status_code == 404


class TestApi:
    def url(self, med) -> str:
        return f"/api/medications/participants/{med.participant.code}/allergies"

    def test_create_list_and_no_known_allergies(self, med):
        client = login(med.w.clinician)
        listed = client.get(self.url(med)).json()
        assert listed["statement_on_file"] and listed["allergies"] == []
        response = client.post(self.url(med), {"substance": "Penicillin", "reaction": "Hives",
                                               "severity": "mild",
                                               "noted_on": TODAY().isoformat()},
                               content_type="application/json")
        assert response.status_code == 201, response.content
        assert response.json()["substance"] == "Penicillin"
        response = client.post(f"{self.url(med)}/none-known",
                               {"stated_on": TODAY().isoformat()},
                               content_type="application/json")
        assert response.status_code == 422 and "stated_on" in response.json()["detail"]

    def test_status_change_with_its_version(self, med):
        row = allergy(med, substance="Penicillin")
        client = login(med.w.clinician)
        url = f"{self.url(med)}/{row.code}/status"
        response = client.post(url, {"version": 1, "status": "entered_in_error"},
                               content_type="application/json")
        assert response.status_code == 200 and response.json()["status"] == "entered_in_error"
        stale = client.post(url, {"version": 1, "status": "active"},
                            content_type="application/json")
        assert stale.status_code == 409
        assert Allergy.objects.get().status == "entered_in_error"

    def test_bad_input_is_422_naming_the_field(self, med):
        client = login(med.w.clinician)
        response = client.post(self.url(med), {"substance": "X", "reaction": "Rash",
                                               "severity": "extreme",
                                               "noted_on": TODAY().isoformat()},
                               content_type="application/json")
        assert response.status_code == 422 and "severity" in response.json()["detail"]
        assert not Allergy.objects.exists()
