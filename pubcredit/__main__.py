"""Console script `pubcredit`: Django's management commands with our settings."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pubcredit.settings")
    # Imported here: settings are chosen above, before Django is imported.
    from django.core.management import execute_from_command_line

    execute_from_command_line(["pubcredit", *sys.argv[1:]])


if __name__ == "__main__":
    main()
