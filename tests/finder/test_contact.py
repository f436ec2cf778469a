"""Contact requests: validation, consent, delivery to the referral queue, spam and floods."""

from __future__ import annotations

import pytest
from django.test import Client

from openiop.audit.models import AccessEvent
from openiop.finder.models import ContactRequest
from openiop.finder.services import listing_publish_program
from openiop.intake.models import Referral
from tests import factories as f
from tests.conftest import login

from .conftest import make_listing

pytestmark = pytest.mark.django_db

GOOD = {"name": "Sam", "requester": "family", "contact_method": "phone",
        "phone": "(614) 555-0199", "email": "", "best_time": "after 5 pm",
        "need": "My brother needs an evening program for alcohol use.", "consent": "on",
        "website": ""}


@pytest.fixture
def listing(world):
    return listing_publish_program(program=world.program)


def post(client, listing, **changes):
    return client.post(f"/find/{listing.code}/contact/", GOOD | changes,
                       REMOTE_ADDR=changes.pop("ip", "203.0.113.9"))


def test_a_request_lands_in_the_programs_referral_queue_with_its_consent(client, listing,
                                                                         world):
    response = post(client, listing)
    assert response.status_code == 302
    contact = ContactRequest.objects.get()
    assert contact.status == "delivered" and contact.program == world.program
    assert world.program.name in contact.consent_text and "988" in contact.consent_text
    referral = Referral.objects.get(code=contact.referral_code)
    assert referral.source == "finder" and referral.status == "new"
    assert referral.organization == world.org and referral.program == world.program
    assert referral.phone == GOOD["phone"] and referral.consent_text == contact.consent_text
    assert GOOD["need"] in referral.reason and "after 5 pm" in referral.reason
    assert AccessEvent.objects.filter(object_type="finder.ContactRequest",
                                      object_id=str(contact.code)).exists()
    # The person sees what happens next, without an account.
    sent = client.get(response["Location"])
    assert sent.status_code == 200
    assert b"what happens next" in sent.content and b"phone call" in sent.content
    assert b"988" in sent.content


@pytest.mark.parametrize(("changes", "field", "words"), [
    ({"name": ""}, "name", "required"),
    ({"need": ""}, "need", "required"),
    ({"consent": ""}, "consent", "required"),
    ({"phone": ""}, "phone", "Give a phone number"),
    ({"phone": "12"}, "phone", "10-digit"),
    ({"contact_method": "email", "email": ""}, "email", "Give an email address"),
    ({"contact_method": "email", "email": "not-an-email"}, "email", "valid email"),
])
def test_a_bad_request_names_the_field_and_stores_nothing(client, listing, changes, field,
                                                          words):
    response = post(client, listing, **changes)
    assert response.status_code == 400
    assert words in " ".join(response.context["form"].errors[field])
    assert not ContactRequest.objects.exists() and not Referral.objects.exists()


def test_the_honeypot_answers_like_success_but_keeps_nothing(client, listing):
    response = post(client, listing, website="http://spam.example")
    assert response.status_code == 302
    assert not ContactRequest.objects.exists() and not Referral.objects.exists()


def test_a_flood_from_one_connection_is_refused_with_429(client, listing, settings):
    settings.FINDER_CONTACT_LIMIT = (3, 3600)
    statuses = [post(client, listing).status_code for _ in range(5)]
    assert statuses == [302, 302, 302, 429, 429]
    assert ContactRequest.objects.count() == 3 == Referral.objects.count()
    refused = post(client, listing)
    assert b"Too many contact requests" in refused.content
    # Another connection is not affected.
    assert post(client, listing, ip="198.51.100.4").status_code == 302


def test_directory_listings_take_no_requests_here(client):
    external = make_listing(phone="(614) 555-0142")
    assert client.post(f"/find/{external.code}/contact/", GOOD).status_code == 404
    page = client.get(f"/find/{external.code}/")
    assert b"does not take requests through OpenIOP" in page.content
    assert b"555-0142" in page.content


def test_staff_of_the_program_see_the_request_and_outsiders_do_not(listing, world):
    post(Client(), listing)  # a member of the public
    intake_user = f.staff(world.org, "intake", username="intake1")
    page = login(intake_user).get("/find/manage/")
    assert page.status_code == 200 and b"My brother needs" in page.content
    assert login(world.outsider).get("/find/manage/").status_code == 200
    assert b"My brother needs" not in login(world.outsider).get("/find/manage/").content
    assert login(world.clinician).get("/find/manage/").status_code == 404
