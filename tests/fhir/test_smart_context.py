"""SMART launch context: patient-level scopes with a standalone launch (the staff member
picks the participant after sign-in) and an EHR launch (from the chart's Launch button).
A patient-level token reads that one participant's records only, and never more than the
staff member may see."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, parse_qsl, urlsplit

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from fhirclient import client as smart_client
from fhirclient.models.observation import Observation
from oauth2_provider.models import Application

from openiop.accounts.models import Role
from openiop.audit.models import AccessEvent
from openiop.fhir.clients import client_register
from openiop.fhir.models import TokenContext
from openiop.intake.models import MeasureResponse
from tests import factories as f
from tests.conftest import login

from .test_smart import REDIRECT, bearer, pkce

LAUNCH_URL = "https://launch.example/start"


@pytest.fixture
def app(world):
    return Application.objects.create(
        name="Synthetic Context App", client_type=Application.CLIENT_PUBLIC,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=REDIRECT, user=world.director, algorithm="")


def score(person, total: int) -> MeasureResponse:
    return MeasureResponse.objects.create(participant=person, instrument="phq9",
                                          answers={"q1": 1}, total=total, band="mild",
                                          completed_at=timezone.now() - timedelta(days=1))


@pytest.fixture
def second(mh):
    """Another participant of the same organization, whom the clinician may also see."""
    person = f.participant(mh.org, legal_first_name="Robin", legal_last_name="Quill")
    f.episode(person, mh.program, therapist=mh.colleague)
    return person


def approve(browser: Client, app, scope: str, extra: dict | None = None,
            patient=None, host: dict | None = None):
    """Authorize page (GET), then Allow (POST) with the chosen participant; the redirect."""
    verifier, challenge = pkce()
    params = {"response_type": "code", "client_id": app.client_id, "redirect_uri": REDIRECT,
              "scope": scope, "state": "st", "code_challenge": challenge,
              "code_challenge_method": "S256", **(extra or {})}
    page = browser.get("/o/authorize/", params, **(host or {}))
    post = params | {"allow": "Authorize"} | ({"patient": str(patient.code)} if patient else {})
    return page, browser.post("/o/authorize/", post, **(host or {})), verifier


def exchange(app, location: str, verifier: str) -> dict:
    code = parse_qs(urlsplit(location).query)["code"][0]
    response = Client().post("/o/token/", {
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
        "client_id": app.client_id, "code_verifier": verifier})
    assert response.status_code == 200, response.content
    return response.json()


def test_standalone_launch_picks_a_participant_and_the_token_names_it(mh, second, app):
    browser = login(mh.clinician)
    page, missing, _ = approve(browser, app, "launch/patient patient/*.rs")
    html = page.content.decode()
    assert page.status_code == 200
    assert "Jamie Rivera" in html and "Robin Quill" in html and "Other Person" not in html
    assert missing.status_code == 422 and "Choose the participant" in missing.content.decode()
    page, approved, verifier = approve(browser, app, "launch/patient patient/*.rs",
                                       patient=mh.participant)
    assert approved.status_code == 302 and approved["Location"].startswith(REDIRECT)
    tokens = exchange(app, approved["Location"], verifier)
    assert tokens["patient"] == str(mh.participant.code)
    assert AccessEvent.objects.filter(object_type="oauth.launch", participant=mh.participant,
                                      actor=mh.clinician).exists()
    searched = browser.get("/o/authorize/", {
        "response_type": "code", "client_id": app.client_id, "redirect_uri": REDIRECT,
        "scope": "launch/patient patient/*.rs", "code_challenge": "x" * 43,
        "code_challenge_method": "S256", "patient_q": "quill"}).content.decode()
    assert "Robin Quill" in searched and "Jamie Rivera" not in searched


def test_a_patient_token_reads_only_its_participant(mh, second, app):
    mine, theirs = score(mh.participant, 6), score(second, 9)
    _, approved, verifier = approve(login(mh.clinician), app,
                                    "launch/patient patient/*.rs offline_access",
                                    patient=mh.participant)
    tokens = exchange(app, approved["Location"], verifier)
    api = bearer(tokens["access_token"])
    assert api.get(f"/fhir/R4/Patient/{mh.participant.code}").status_code == 200
    assert api.get(f"/fhir/R4/Observation/{mine.code}").status_code == 200
    for path in (f"/fhir/R4/Patient/{second.code}", f"/fhir/R4/Observation/{theirs.code}",
                 f"/fhir/R4/Observation?patient={second.code}",
                 f"/fhir/R4/Patient/{mh.outsider_participant.code}"):
        refused = api.get(path)
        assert refused.status_code == 404, path
        assert refused.json()["resourceType"] == "OperationOutcome"
    patients = api.get("/fhir/R4/Patient").json()
    assert [e["resource"]["id"] for e in patients["entry"]] == [str(mh.participant.code)]
    scores = api.get("/fhir/R4/Observation").json()
    assert [e["resource"]["id"] for e in scores["entry"]] == [str(mine.code)]
    revinclude = api.get("/fhir/R4/Patient?_revinclude=Observation:patient").json()
    assert {e["resource"]["id"] for e in revinclude["entry"]} == {
        str(mh.participant.code), str(mine.code)}
    # the organization's directory is not patient data
    assert api.get(f"/fhir/R4/Practitioner/{mh.clinician.code}").status_code == 200
    # the JSON API has no patient compartment: a patient token is refused there
    assert api.get("/api/participants/").status_code == 403
    uses = AccessEvent.objects.filter(object_type="oauth.token", actor=mh.clinician)
    assert uses.exists() and all(app.name in e.reason for e in uses)
    # a refreshed token keeps the launch context
    refreshed = Client().post("/o/token/", {"grant_type": "refresh_token",
                                            "refresh_token": tokens["refresh_token"],
                                            "client_id": app.client_id}).json()
    assert refreshed["patient"] == str(mh.participant.code)
    again = bearer(refreshed["access_token"])
    assert again.get(f"/fhir/R4/Patient/{second.code}").status_code == 404
    assert again.get(f"/fhir/R4/Patient/{mh.participant.code}").status_code == 200


def test_user_and_patient_scopes_together_reach_each_type_as_far_as_their_level(
        mh, second, app):
    theirs = score(second, 9)
    _, approved, verifier = approve(login(mh.clinician), app,
                                    "launch/patient user/Patient.rs patient/Observation.rs",
                                    patient=mh.participant)
    api = bearer(exchange(app, approved["Location"], verifier)["access_token"])
    assert api.get(f"/fhir/R4/Patient/{second.code}").status_code == 200  # user level
    assert api.get(f"/fhir/R4/Observation/{theirs.code}").status_code == 404  # patient level


def test_patient_scopes_never_widen_the_role_or_the_people_one_may_see(mh, app):
    m = score(mh.participant, 4)
    desk = f.staff(mh.org, Role.FRONT_DESK)
    _, approved, verifier = approve(login(desk), app, "launch/patient patient/*.rs",
                                    patient=mh.participant)
    api = bearer(exchange(app, approved["Location"], verifier)["access_token"])
    refused = api.get(f"/fhir/R4/Observation/{m.code}")
    assert refused.status_code == 403 and "role" in refused.json()["issue"][0]["diagnostics"]
    # a participant of another organization cannot be chosen, even by a forged form
    _, forged, _ = approve(login(mh.clinician), app, "launch/patient patient/*.rs",
                           patient=mh.outsider_participant)
    assert forged.status_code == 422
    assert not TokenContext.objects.filter(participant=mh.outsider_participant).exists()


def test_patient_scopes_without_a_launch_context_read_nothing(mh, app):
    """A token with patient/ scopes but no participant (issued before the picker, or by a
    misbehaving client) reaches no patient data."""
    from oauth2_provider.models import AccessToken

    AccessToken.objects.create(user=mh.clinician, application=app, token="no-context-token",
                               scope="patient/*.rs",
                               expires=timezone.now() + timedelta(hours=1))
    refused = bearer("no-context-token").get(f"/fhir/R4/Patient/{mh.participant.code}")
    assert refused.status_code == 403


@pytest.fixture
def launchable(mh):
    registered, _ = client_register(actor=mh.director, name="Synthetic Chart App",
                                    redirect_uris=[REDIRECT], confidential=False,
                                    launch_url=LAUNCH_URL)
    return registered


def launch(browser: Client, person, app) -> dict[str, str]:
    response = browser.post(f"/o/launch/participants/{person.code}/", {"client": app.client_id})
    assert response.status_code == 302 and response["Location"].startswith(LAUNCH_URL + "?")
    return dict(parse_qsl(urlsplit(response["Location"]).query))


def test_the_chart_offers_registered_apps_and_an_ehr_launch_binds_the_chart(
        mh, second, launchable):
    browser = login(mh.clinician)
    chart = browser.get(f"/participants/{mh.participant.code}/").content.decode()
    assert "Launch Synthetic Chart App" in chart
    params = launch(browser, mh.participant, launchable)
    assert params["iss"] == "http://testserver/fhir/R4"
    page, approved, verifier = approve(browser, launchable, "launch patient/*.rs openid",
                                       extra={"launch": params["launch"], "aud": params["iss"]})
    assert page.status_code == 200 and "Jamie Rivera" in page.content.decode()
    assert "Robin Quill" not in page.content.decode()  # no picker: the chart decides
    tokens = exchange(launchable, approved["Location"], verifier)
    assert tokens["patient"] == str(mh.participant.code)
    api = bearer(tokens["access_token"])
    assert api.get(f"/fhir/R4/Patient/{mh.participant.code}").status_code == 200
    assert api.get(f"/fhir/R4/Patient/{second.code}").status_code == 404
    assert AccessEvent.objects.filter(object_type="oauth.launch", participant=mh.participant,
                                      reason__contains="launched from the chart").exists()


def test_an_ehr_launch_is_refused_for_another_user_a_wrong_aud_or_after_an_hour(
        mh, launchable):
    params = launch(login(mh.clinician), mh.participant, launchable)
    page, approved, _ = approve(login(mh.colleague), launchable, "launch patient/*.rs",
                                extra={"launch": params["launch"]})
    assert page.status_code == 400 and "launch" in page.content.decode()
    assert approved.status_code == 400
    wrong_aud, _, _ = approve(login(mh.clinician), launchable, "launch patient/*.rs",
                              extra={"launch": params["launch"],
                                     "aud": "https://elsewhere.example/fhir"})
    assert wrong_aud.status_code == 400 and "aud" in wrong_aud.content.decode()
    no_launch, _, _ = approve(login(mh.clinician), launchable, "launch patient/*.rs")
    assert no_launch.status_code == 400
    with time_machine.travel(timezone.now() + timedelta(minutes=61)):
        late, _, _ = approve(login(mh.clinician), launchable, "launch patient/*.rs",
                             extra={"launch": params["launch"]})
    assert late.status_code == 400 and "expired" in late.content.decode()


def test_the_launch_button_is_for_this_organizations_apps_only(mh, launchable):
    outsider_app, _ = client_register(actor=mh.outsider, name="Elsewhere App",
                                      redirect_uris=[REDIRECT], confidential=False,
                                      launch_url="https://elsewhere.example/launch")
    browser = login(mh.clinician)
    assert "Elsewhere App" not in browser.get(
        f"/participants/{mh.participant.code}/").content.decode()
    assert browser.post(f"/o/launch/participants/{mh.participant.code}/",
                        {"client": outsider_app.client_id}).status_code == 404
    assert browser.get(f"/o/launch/participants/{mh.participant.code}/").status_code == 405


@pytest.fixture
def live(transactional_db, world, live_server):
    world.program.focus = "mh"
    world.program.save()
    return live_server


def _drive(smart, browser: Client, patient=None) -> None:
    """The staff member's part in the browser: approve (and pick), then the callback."""
    parts = urlsplit(smart.authorize_url)
    params = dict(parse_qsl(parts.query))
    host = {"HTTP_HOST": parts.netloc}
    assert browser.get(parts.path, params, **host).status_code == 200
    extra = {"patient": str(patient.code)} if patient is not None else {}
    approved = browser.post(parts.path, params | {"allow": "Authorize"} | extra, **host)
    assert approved.status_code == 302, approved.content
    smart.handle_callback(approved["Location"])


def test_fhirclient_standalone_patient_launch(live, world):
    patient_app = Application.objects.create(
        name="Synthetic Patient App", client_type=Application.CLIENT_PUBLIC,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=REDIRECT, user=world.director, algorithm="")
    other = f.participant(world.org, legal_first_name="Robin", legal_last_name="Quill")
    score(world.participant, 7)
    score(other, 11)
    smart = smart_client.FHIRClient(settings={
        "app_id": patient_app.client_id, "api_base": f"{live.url}/fhir/R4/",
        "redirect_uri": REDIRECT, "scope": "openid fhirUser patient/Patient.rs "
                                           "patient/Observation.rs"})
    assert "launch/patient" in smart.desired_scope  # fhirclient asks for the picker
    browser = Client()
    browser.force_login(world.clinician)
    _drive(smart, browser, patient=world.participant)
    assert smart.ready and smart.patient_id == str(world.participant.code)
    assert smart.patient.name[0].family == "Rivera"
    scores = Observation.where(struct={}).perform_resources(smart.server)
    assert [o.valueQuantity.value for o in scores] == [7]
    token = smart.server.auth.access_token
    assert bearer(token).get(f"/fhir/R4/Patient/{other.code}").status_code == 404


def test_fhirclient_ehr_launch(live, world):
    registered, _ = client_register(actor=world.director, name="Synthetic EHR App",
                                    redirect_uris=[REDIRECT], confidential=False,
                                    launch_url=LAUNCH_URL)
    score(world.participant, 5)
    browser = Client()
    browser.force_login(world.clinician)
    started = browser.post(f"/o/launch/participants/{world.participant.code}/",
                           {"client": registered.client_id}, HTTP_HOST=urlsplit(live.url).netloc)
    params = dict(parse_qsl(urlsplit(started["Location"]).query))
    assert params["iss"] == f"{live.url}/fhir/R4"
    smart = smart_client.FHIRClient(settings={
        "app_id": registered.client_id, "api_base": params["iss"] + "/",
        "redirect_uri": REDIRECT, "launch_token": params["launch"],
        "scope": "openid patient/*.rs"})
    assert smart.desired_scope.startswith("launch ")
    _drive(smart, browser)
    assert smart.patient_id == str(world.participant.code)
    assert [o.valueQuantity.value for o in
            Observation.where(struct={}).perform_resources(smart.server)] == [5]


def test_a_patient_token_exports_only_its_participant(mh, second, app, settings, tmp_path):
    from .test_bulk_export import ASYNC, IMMEDIATE

    settings.OPENIOP_EXPORT_DIR = tmp_path / "exports"
    settings.TASKS = IMMEDIATE
    mine = score(mh.participant, 6)
    score(second, 9)
    _, approved, verifier = approve(login(mh.clinician), app, "launch/patient patient/*.rs",
                                    patient=mh.participant)
    api = bearer(exchange(app, approved["Location"], verifier)["access_token"])
    kickoff = api.get("/fhir/R4/Patient/$export", {"_type": "Patient,Observation"},
                      headers=ASYNC)
    assert kickoff.status_code == 202, kickoff.content
    manifest = api.get(kickoff["Content-Location"]).json()
    exported = {}
    for item in manifest["output"]:
        body = b"".join(api.get(item["url"]).streaming_content).decode()
        exported[item["type"]] = [line for line in body.splitlines() if line]
    assert [f'"id":"{mh.participant.code}"' in line for line in exported["Patient"]] == [True]
    assert len(exported["Observation"]) == 1 and str(mine.code) in exported["Observation"][0]
