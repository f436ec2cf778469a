"""A standalone SMART launch driven by a real client library (SMART's Python
`fhirclient`) against a live server: discovery from the CapabilityStatement, the
authorize redirect with PKCE, the user's approval in the browser, the code exchange, and
reads and searches with the bearer token."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest
from django.test import Client
from fhirclient import client as smart_client
from fhirclient.models.observation import Observation
from fhirclient.models.patient import Patient
from oauth2_provider.models import Application

from openiop.audit.models import AccessEvent
from openiop.intake.models import MeasureResponse

REDIRECT = "http://localhost:8765/callback"


@pytest.fixture
def live(transactional_db, world, live_server):
    world.program.focus = "mh"  # not a Part 2 record: the consent rules have their own tests
    world.program.save()
    return live_server


def test_fhirclient_standalone_launch(live, world):
    app = Application.objects.create(
        name="Synthetic Launch App", client_type=Application.CLIENT_PUBLIC,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=REDIRECT, user=world.director, algorithm="")
    MeasureResponse.objects.create(participant=world.participant, instrument="phq9",
                                   answers={"q1": 1}, total=7, band="mild",
                                   completed_at=world.episode.created_at)
    smart = smart_client.FHIRClient(settings={
        "app_id": app.client_id, "api_base": f"{live.url}/fhir/R4/",
        "redirect_uri": REDIRECT, "scope": "openid fhirUser user/Patient.rs user/Observation.rs"})
    smart.wants_patient = False  # a user-level launch: no patient picker
    authorize_url = smart.authorize_url
    assert authorize_url.startswith(f"{live.url}/o/authorize/")

    browser = Client()
    browser.force_login(world.clinician)
    parts = urlsplit(authorize_url)
    params = dict(parse_qsl(parts.query))
    assert params["code_challenge_method"] == "S256"
    host = {"HTTP_HOST": parts.netloc}  # the app's aud names the server it was given
    assert browser.get(parts.path, params, **host).status_code == 200
    approved = browser.post(parts.path, params | {"allow": "Authorize"}, **host)
    assert approved.status_code == 302 and approved["Location"].startswith(REDIRECT)

    smart.handle_callback(approved["Location"])
    assert smart.ready
    patient = Patient.read(str(world.participant.code), smart.server)
    assert patient.name[0].family == "Rivera"
    scores = Observation.where(struct={"patient": str(world.participant.code)}
                               ).perform_resources(smart.server)
    assert [o.valueQuantity.value for o in scores] == [7]
    uses = AccessEvent.objects.filter(object_type="oauth.token", actor=world.clinician)
    assert uses.count() == 2 and all("Synthetic Launch App" in e.reason for e in uses)
