"""Administrative commands: API keys (app/api/cli.py), clinics and staff (app/staff/cli.py),
and the reports read from the stored records (app/monitoring_cli.py)."""

from __future__ import annotations

from typing import Any


def register(sub: Any) -> None:
    """Add the admin subcommands to the `backaudit` parser."""
    from .api.cli import register as register_api
    from .monitoring_cli import register as register_monitoring
    from .staff.cli import register as register_staff

    register_api(sub)
    register_staff(sub)
    register_monitoring(sub)
