"""The `openiop` console command.

    openiop demo [--seed N] [--participants N]   build the synthetic demo clinic
    openiop logins                                print every demo login
    openiop audit verify                          check the audit chains and latest checkpoint
    openiop audit checkpoint                      write a signed audit checkpoint now
    openiop audit app-role --role NAME            create the PostgreSQL role the app runs as
    openiop create_clinic --name N --admin USER   a real clinic's organization and first admin
    openiop serve [addr:port]                     run the development server
    openiop worker                                run background jobs and the scheduler
    openiop <django command> ...                  any Django management command
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "openiop.settings")
    from django.core.management import execute_from_command_line

    if args[:1] == ["audit"] and args[1:2] in (["verify"], ["checkpoint"], ["app-role"]):
        args = [f"audit_{args[1].replace('-', '_')}", *args[2:]]
    elif args[:1] == ["serve"]:
        args = ["runserver", *(args[1:] or ["127.0.0.1:8000"])]
    elif args[:1] == ["worker"]:
        args = ["jobs_worker", *args[1:]]
    elif args[:1] == ["logins"]:
        args = ["demo_logins", *args[1:]]
    execute_from_command_line(["openiop", *args])


if __name__ == "__main__":
    main()
