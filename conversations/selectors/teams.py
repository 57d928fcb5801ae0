"""The teams and labels, as the console's filters and label picker list them."""

from __future__ import annotations

from typing import Any

from ..models import Label, Team


def teams_list() -> list[dict[str, Any]]:
    """Every team, by name."""
    return [{"id": team.pk, "name": team.name} for team in Team.objects.order_by("name")]


def labels_list() -> list[str]:
    """Every label's name, by name."""
    return list(Label.objects.order_by("name").values_list("name", flat=True))
