"""Settings with a few values changed, as a test needs them."""

from __future__ import annotations

from typing import Any

from app.config import Settings, SettingsGroup


def settings_with(settings: Settings, **changes: Any) -> Settings:
    """``settings`` with ``changes``: a plain value for a top-level setting
    (``environment="production"``), a dict of field names for a group
    (``mail={"port": 2525}``), which keeps the group's other values and is validated again as
    at start-up, so a test cannot run with a value the app would refuse."""
    update: dict[str, Any] = {}
    for name, value in changes.items():
        if name not in Settings.model_fields:
            raise TypeError(f"Settings has no {name!r}")
        group = getattr(settings, name)
        if isinstance(group, SettingsGroup):
            value = type(group).model_validate({**group.model_dump(), **value})
        update[name] = value
    return settings.model_copy(update=update)
