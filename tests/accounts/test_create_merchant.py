"""`manage.py create_merchant`: how a production install gets its first merchant and owner."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from accounts.choices import Role
from accounts.models import Membership, Merchant

pytestmark = pytest.mark.django_db


def test_creates_the_merchant_and_its_owner_with_the_password_from_a_file(tmp_path):
    password_file = tmp_path / "password"
    password_file.write_text("uma-senha-bem-longa-42\n")

    call_command(
        "create_merchant",
        "--name",
        "Café Assinado",
        "--owner-username",
        "dono",
        "--owner-email",
        "dono@example.com",
        "--password-file",
        str(password_file),
    )

    merchant = Merchant.objects.get()
    assert (merchant.name, merchant.slug) == ("Café Assinado", "cafe-assinado")
    membership = Membership.objects.get()
    assert (membership.merchant, membership.user.username, membership.role) == (merchant, "dono", Role.OWNER)
    user = membership.user
    assert user.email == "dono@example.com" and not user.is_staff and not user.is_superuser
    assert user.check_password("uma-senha-bem-longa-42")


def test_the_password_can_come_from_an_environment_variable(monkeypatch):
    monkeypatch.setenv("OWNER_PASSWORD", "outra-senha-bem-longa-7")
    call_command(
        "create_merchant",
        "--name=Loja",
        "--owner-username=dona",
        "--owner-email=dona@example.com",
        "--password-env=OWNER_PASSWORD",
    )
    assert get_user_model().objects.get(username="dona").check_password("outra-senha-bem-longa-7")


def test_a_weak_password_is_refused_and_nothing_is_created(monkeypatch):
    monkeypatch.setenv("OWNER_PASSWORD", "123")
    with pytest.raises(CommandError):
        call_command(
            "create_merchant",
            "--name=Loja",
            "--owner-username=dona",
            "--owner-email=dona@example.com",
            "--password-env=OWNER_PASSWORD",
        )
    assert not Merchant.objects.exists()
    assert not get_user_model().objects.exists()


def test_an_existing_username_is_refused(monkeypatch, owner):
    monkeypatch.setenv("OWNER_PASSWORD", "outra-senha-bem-longa-7")
    with pytest.raises(CommandError, match="Já existe um usuário"):
        call_command(
            "create_merchant",
            "--name=Loja Nova",
            f"--owner-username={owner.username}",
            "--owner-email=x@example.com",
            "--password-env=OWNER_PASSWORD",
        )
    assert not Merchant.objects.filter(slug="loja-nova").exists()


def test_without_a_terminal_or_a_password_source_it_refuses(monkeypatch):
    monkeypatch.setattr("sys.stdin.isatty", lambda: False, raising=False)
    with pytest.raises(CommandError, match="--password-file"):
        call_command("create_merchant", "--name=Loja", "--owner-username=dona", "--owner-email=d@example.com")


def test_migrations_create_no_user_and_no_merchant():
    # The test database was built by running every migration: the demo logins are not there.
    assert not get_user_model().objects.exists()
    assert not Merchant.objects.exists()


def test_the_demo_loader_refuses_a_production_configuration(settings):
    settings.DEMO_DATA_ALLOWED = False
    with pytest.raises(CommandError, match="only runs in development"):
        call_command("load_demo")
    assert not get_user_model().objects.filter(username="admin").exists()
