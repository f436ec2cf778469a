"""Create (or update) the PostgreSQL role the application connects as.

Run it as the database's owner, the role that runs migrations:

    DATABASE_URL=postgres://openiop_owner@db/openiop openiop audit app-role --role openiop_app

The role may read and write the application's tables but only INSERT and SELECT audit
events: UPDATE, DELETE and TRUNCATE of audit_accessevent are not granted, so a flaw in the
application (or a stolen application password) cannot rewrite the audit trail. It is not a
superuser, so it cannot switch triggers off (session_replication_role) either. Tables that
later migrations create (as the owner) are granted through default privileges. Set
OPENIOP_APP_DB_PASSWORD to give the role a password. `--print` shows the SQL instead.
"""

from __future__ import annotations

import os
import re

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction

AUDIT_TABLE = "audit_accessevent"
_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def app_role_sql(role: str, database: str) -> list[str]:
    q = connection.ops.quote_name
    r = q(role)
    return [
        f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN "
        f"CREATE ROLE {r} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS; "
        "END IF; END $$",
        f"ALTER ROLE {r} NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS",
        f"GRANT CONNECT, TEMPORARY ON DATABASE {q(database)} TO {r}",
        f"GRANT USAGE ON SCHEMA public TO {r}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {r}",
        f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {r}",
        f"REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON {q(AUDIT_TABLE)} FROM {r}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public "
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {r}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public "
        f"GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO {r}",
    ]


class Command(BaseCommand):
    help = ("Create the limited PostgreSQL role the application connects as (audit events: "
            "INSERT and SELECT only). Run as the database owner.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--role", default="openiop_app",
                            help="The role's name (lower-case letters, digits, _).")
        parser.add_argument("--print", action="store_true", dest="print_only",
                            help="Print the SQL instead of running it.")

    def handle(self, *args: object, **options: object) -> None:
        role = str(options["role"])
        if not _NAME.match(role):
            raise CommandError("--role: use lower-case letters, digits and _ (at most 63).")
        if connection.vendor != "postgresql":
            raise CommandError("The limited application role is for PostgreSQL; SQLite has no "
                               "roles (use PostgreSQL in production).")
        statements = app_role_sql(role, connection.settings_dict["NAME"])
        if options["print_only"]:
            self.stdout.write(";\n".join(statements) + ";")
            return
        password = os.environ.get("OPENIOP_APP_DB_PASSWORD")
        with transaction.atomic(), connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)
            if password:
                cursor.execute(f"ALTER ROLE {connection.ops.quote_name(role)} PASSWORD %s",
                               [password])
        self.stdout.write(self.style.SUCCESS(
            f"Role {role}: may use the application's tables; audit events INSERT and SELECT "
            "only. Point the application's DATABASE_URL at it; run migrations as the owner."))
