"""The price table: the server alone decides what an appointment costs (integer cents).

Configurable with PRICE_TABLE_JSON:
{"<practitioner>": {"<service slug>": {"name": "...", "amount_cents": 15000}}}.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings

from sofia_checkout.core.errors import ValidationFailed

DEFAULT_PRICE_TABLE: dict[str, dict[str, dict[str, Any]]] = {
    "Dr. Ana Reyes": {
        "initial_consultation": {"name": "Initial consultation (60 min)", "amount_cents": 15000},
        "follow_up": {"name": "Follow-up visit (30 min)", "amount_cents": 8500},
    },
    "Dr. Sam Okafor": {
        "initial_consultation": {"name": "Initial consultation (60 min)", "amount_cents": 18000},
        "nutrition_plan": {"name": "Nutrition plan session (45 min)", "amount_cents": 12000},
    },
    "Jordan Lee, RD": {
        "nutrition_plan": {"name": "Nutrition plan session (45 min)", "amount_cents": 9500},
        "follow_up": {"name": "Follow-up visit (30 min)", "amount_cents": 6000},
    },
}


@dataclass(frozen=True)
class Service:
    slug: str
    name: str
    amount_cents: int


@dataclass(frozen=True)
class Practitioner:
    name: str
    services: tuple[Service, ...]


def price_table() -> tuple[Practitioner, ...]:
    """The configured table, validated: positive integer cents, names present."""
    raw = settings.PRICE_TABLE or DEFAULT_PRICE_TABLE
    practitioners = []
    for name, services in raw.items():
        parsed = []
        for slug, entry in services.items():
            amount = entry.get("amount_cents")
            if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
                raise ValueError(f"PRICE_TABLE: {name}/{slug} needs a positive integer amount_cents")
            parsed.append(Service(slug=slug, name=str(entry.get("name") or slug), amount_cents=amount))
        practitioners.append(Practitioner(name=name, services=tuple(parsed)))
    return tuple(practitioners)


def quote(*, practitioner: str, service: str) -> Service:
    """The price of `service` with `practitioner`. Raises ValidationFailed naming the field at fault."""
    for listed in price_table():
        if listed.name == practitioner:
            for offered in listed.services:
                if offered.slug == service:
                    return offered
            raise ValidationFailed(errors={"service": [f"{practitioner} does not offer this service."]})
    raise ValidationFailed(errors={"practitioner": ["Unknown practitioner."]})
