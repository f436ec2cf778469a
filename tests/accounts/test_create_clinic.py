"""`openiop create_clinic`: a real clinic's first organization and administrator."""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from openiop.accounts.models import User
from openiop.organizations.models import Organization


def test_it_creates_a_clinic_administrator_with_a_set_up_link_not_a_superuser(db, capsys):
    call_command("create_clinic", name="Lakeside Recovery", admin="ada",
                 email="ada@lakeside.example.org", base_url="https://iop.example.org")
    org = Organization.objects.get(slug="lakeside-recovery")
    ada = User.objects.get(username="ada")
    assert ada.role == "admin" and not ada.is_superuser and not ada.is_staff
    assert not ada.has_usable_password()
    assert ada.staff_profile.organization == org
    link = re.search(r"https://iop\.example\.org(/accounts/link/\S+/)",
                     capsys.readouterr().out).group(1)
    client = Client()
    client.post(link, {"new_password1": "a-long-and-unusual-passphrase",
                       "new_password2": "a-long-and-unusual-passphrase"})
    assert client.get("/participants/").status_code == 200
    assert client.get("/accounts/staff/").status_code == 200
    # Django's admin is for platform operators only.
    assert client.get("/admin/").status_code == 302
    # The link works once.
    assert Client().get(link).status_code == 410


@pytest.mark.parametrize(("options", "message"), [
    ({"time_zone": "Mars/Olympus"}, "--time-zone: 'Mars/Olympus' is not a time zone name"),
    ({"admin": "taken"}, "--admin: the username 'taken' is taken."),
    ({"base_url": "iop.example.org"}, "--base-url: start with https://"),
])
def test_it_refuses_bad_options_naming_them(options, message, db):
    User.objects.create(username="taken")
    with pytest.raises(CommandError, match=message):
        call_command("create_clinic", **({"name": "Lakeside", "admin": "ada"} | options))
    assert not Organization.objects.exists()
