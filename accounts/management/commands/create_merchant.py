"""Creates a merchant and its first owner: the first step of a production install (README "Deploying").

The password is asked twice on a terminal; for automation, read from a file (`--password-file`, e.g. a
secret mounted by the platform) or from the environment variable named by `--password-env`. It is never
a command-line argument, which other users of the machine could read in the process list.
"""

import getpass
import os
import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.services import merchant_create_with_owner


class Command(BaseCommand):
    help = "Creates a merchant and its owner (a new user); prompts for the password."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True, help="The merchant's name, e.g. 'Café Assinado'.")
        parser.add_argument("--slug", default="", help="Its identifier (default: from the name).")
        parser.add_argument("--owner-username", required=True)
        parser.add_argument("--owner-email", required=True)
        source = parser.add_mutually_exclusive_group()
        source.add_argument("--password-file", help="Read the owner's password from this file (first line).")
        source.add_argument(
            "--password-env",
            metavar="VARIABLE",
            help="Read the owner's password from this environment variable.",
        )

    def handle(self, *args, name, slug, owner_username, owner_email, password_file, password_env, **options):
        password = self._password(password_file, password_env)
        try:
            membership = merchant_create_with_owner(
                name=name,
                slug=slug,
                owner_username=owner_username,
                owner_email=owner_email,
                owner_password=password,
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(
            f"Created merchant {membership.merchant.name} ({membership.merchant.slug}, id "
            f"{membership.merchant_id}) with owner {membership.user.username}."
        )

    def _password(self, password_file, password_env):
        if password_file:
            try:
                with open(password_file, encoding="utf-8") as handle:
                    password = handle.readline().rstrip("\r\n")
            except OSError as exc:
                raise CommandError(f"Cannot read {password_file}: {exc}") from exc
        elif password_env:
            password = os.environ.get(password_env, "")
        elif sys.stdin.isatty():
            password = getpass.getpass("Owner's password: ")
            if password != getpass.getpass("Password (again): "):
                raise CommandError("The passwords do not match.")
        else:
            raise CommandError("No terminal to ask the password: use --password-file or --password-env.")
        if not password:
            raise CommandError("The password is empty.")
        return password
