"""Participant forms name the field and the rule, and save nothing on error."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from openiop.audit.models import AccessEvent
from openiop.participants.models import Availability, Participant

VALID = {
    "mrn": "NEW-1", "legal_first_name": "Robin", "legal_last_name": "Ames",
    "date_of_birth": "1985-03-04", "preferred_language": "English",
}


def test_create_participant_records_an_audit_event(world, as_clinician):
    response = as_clinician.post("/participants/new/", VALID)
    assert response.status_code == 302
    created = Participant.objects.get(mrn="NEW-1")
    assert AccessEvent.objects.filter(participant=created, action="create").count() == 1


def test_future_date_of_birth_is_refused(world, as_clinician):
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    response = as_clinician.post("/participants/new/", VALID | {"date_of_birth": tomorrow})
    assert response.status_code == 200
    assert b"Date of birth: Date of birth cannot be in the future." in response.content
    assert not Participant.objects.filter(mrn="NEW-1").exists()


def test_duplicate_mrn_in_the_same_organization_is_refused(world, as_clinician):
    response = as_clinician.post("/participants/new/", VALID | {"mrn": world.participant.mrn})
    assert response.status_code == 200
    assert f"MRN {world.participant.mrn} is already used".encode() in response.content
    assert Participant.objects.filter(mrn=world.participant.mrn).count() == 1


def test_same_mrn_in_another_organization_is_allowed(world, as_outsider):
    response = as_outsider.post("/participants/new/", VALID | {"mrn": world.participant.mrn})
    assert response.status_code == 302


def test_availability_window_ending_before_it_starts_is_refused(world, as_clinician):
    url = f"/participants/{world.participant.code}/availability/"
    response = as_clinician.post(url, {"kind": "work", "weekday": 0, "start_time": "17:00",
                                       "end_time": "09:00"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert b"End time: End time must be after the start time." in response.content
    assert not Availability.objects.filter(participant=world.participant).exists()


def test_availability_window_is_added_and_audited(world, as_clinician):
    url = f"/participants/{world.participant.code}/availability/"
    as_clinician.post(url, {"kind": "work", "weekday": 1, "start_time": "09:00",
                            "end_time": "17:00"})
    assert world.participant.availability.count() == 1
    assert AccessEvent.objects.filter(participant=world.participant,
                                      object_type="availability").exists()


def test_edit_against_an_old_version_does_not_overwrite(world, as_clinician, as_director):
    url = f"/participants/{world.participant.code}/edit/"
    data = VALID | {"mrn": world.participant.mrn, "version": 1}
    assert as_director.post(url, data | {"preferred_name": "First"}).status_code == 302
    response = as_clinician.post(url, data | {"preferred_name": "Second"})
    assert response.status_code == 200
    assert b"Someone else saved this record" in response.content
    world.participant.refresh_from_db()
    assert world.participant.preferred_name == "First"
    assert world.participant.version == 2


def test_unknown_url_gets_the_apps_own_404(client, db):
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert b"Page not found" in response.content and b"OpenIOP" in response.content


def test_a_contact_marked_may_contact_needs_a_way_to_reach_them(world, as_clinician):
    url = f"/participants/{world.participant.code}/contacts/"
    response = as_clinician.post(url, {"name": "Lee Rivera", "relationship": "sibling",
                                       "may_contact": "on"})
    assert response.status_code == 200
    assert (b"May contact: To allow contact, enter a phone number or an email address"
            in response.content)
    # What was typed is shown again, and nothing was saved.
    assert b'value="Lee Rivera"' in response.content
    assert not world.participant.related_people.exists()


def test_an_emergency_contact_needs_a_phone_number(world, as_clinician):
    url = f"/participants/{world.participant.code}/contacts/"
    response = as_clinician.post(url, {"name": "Lee Rivera", "relationship": "sibling",
                                       "is_emergency_contact": "on",
                                       "email": "lee@example.net"})
    assert b"Phone: An emergency contact needs a phone number." in response.content
    assert not world.participant.related_people.exists()


def test_a_contact_with_a_malformed_phone_is_refused_naming_the_field(world, as_clinician):
    url = f"/participants/{world.participant.code}/contacts/"
    response = as_clinician.post(url, {"name": "Lee Rivera", "relationship": "sibling",
                                       "phone": "call me"})
    assert b"Phone: Enter a phone number of 7 to 20 digits" in response.content
    assert not world.participant.related_people.exists()


def test_a_contact_is_added_and_audited(world, as_clinician):
    url = f"/participants/{world.participant.code}/contacts/"
    response = as_clinician.post(url, {"name": "Lee Rivera", "relationship": "sibling",
                                       "phone": "(614) 555-0199", "may_contact": "on"})
    assert response.status_code == 302
    person = world.participant.related_people.get()
    assert person.may_contact and person.phone == "(614) 555-0199"
    assert AccessEvent.objects.filter(participant=world.participant, action="change",
                                      object_type="related_person",
                                      object_id=str(person.code)).exists()


def test_availability_error_without_htmx_keeps_the_typed_window(world, as_clinician):
    url = f"/participants/{world.participant.code}/availability/"
    response = as_clinician.post(url, {"kind": "school", "weekday": 2, "start_time": "15:00",
                                       "end_time": "08:00", "note": "Night class"})
    assert response.status_code == 200
    assert b"End time: End time must be after the start time." in response.content
    assert b'value="Night class"' in response.content
    assert not Availability.objects.filter(participant=world.participant).exists()


def test_required_fields_are_named_when_missing(world, as_clinician):
    response = as_clinician.post("/participants/new/", {"mrn": ""})
    body = response.content.decode()
    for label in ("MRN", "Legal first name", "Legal last name", "Date of birth"):
        assert f"{label}: This field is required." in body
    assert "Nothing was saved." in body


def test_editing_writes_a_change_event(world, as_clinician):
    url = f"/participants/{world.participant.code}/edit/"
    data = VALID | {"mrn": world.participant.mrn, "version": world.participant.version,
                    "phone": "(614) 555-0142"}
    assert as_clinician.post(url, data).status_code == 302
    assert AccessEvent.objects.filter(participant=world.participant, action="change",
                                      object_type="participant").count() == 1
