"""`openiop create_clinic`: a real clinic's first organization and administrator."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from openiop.accounts.models import User
from openiop.organizations.models import Organization


def test_it_creates_an_organization_and_an_administrator_who_can_sign_in(db, monkeypatch):
    monkeypatch.setenv("OPENIOP_ADMIN_PASSWORD", "a-long-and-unusual-passphrase")
    call_command("create_clinic", name="Lakeside Recovery", admin="ada",
                 email="ada@lakeside.example.org")
    org = Organization.objects.get(slug="lakeside-recovery")
    ada = User.objects.get(username="ada")
    assert ada.role == "admin" and ada.is_superuser and ada.password.startswith("argon2")
    assert ada.staff_profile.organization == org
    client = Client()
    client.post("/accounts/login/", {"username": "ada",
                                     "password": "a-long-and-unusual-passphrase"})
    assert client.get("/participants/").status_code == 200
    assert client.get("/admin/").status_code == 200


@pytest.mark.parametrize(("options", "message"), [
    ({"time_zone": "Mars/Olympus"}, "--time-zone: 'Mars/Olympus' is not a time zone name"),
    ({"admin": "taken"}, "--admin: the username 'taken' is taken."),
])
def test_it_refuses_bad_options_naming_them(options, message, db, monkeypatch):
    monkeypatch.setenv("OPENIOP_ADMIN_PASSWORD", "a-long-and-unusual-passphrase")
    User.objects.create(username="taken")
    with pytest.raises(CommandError, match=message):
        call_command("create_clinic", **({"name": "Lakeside", "admin": "ada"} | options))
    assert not Organization.objects.exists()


def test_it_refuses_a_weak_password_and_creates_nothing(db, monkeypatch):
    monkeypatch.setenv("OPENIOP_ADMIN_PASSWORD", "short")
    with pytest.raises(CommandError, match="Password: This password is too short"):
        call_command("create_clinic", name="Lakeside", admin="ada")
    assert not Organization.objects.exists() and not User.objects.filter(username="ada").exists()
