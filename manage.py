#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        settings.INSTALLED_APPS  # noqa: B018 - loads the settings, which refuse unsafe production values
    except ImproperlyConfigured as refused:
        # What to change, without a traceback through the import machinery in front of it.
        sys.exit(f"The helpdesk refuses to start:\n{refused}")
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
