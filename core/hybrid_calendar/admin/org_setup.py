"""Creating an organisation: its id, name and verified domains.

Shared by ``POST /api/v1/organisations``, the admin page and ``hybrid-calendar org init``
(which the provider plugin registers, since the service-account key and the delegation
steps are the provider's). Creating one that exists is a conflict, never an overwrite.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from hybrid_calendar.admin.errors import ConflictError
from hybrid_calendar.admin.policy import verified_domains
from hybrid_calendar.errors import ConfigError
from hybrid_calendar.models import Organisation

if TYPE_CHECKING:
    from hybrid_calendar.gateway import Gateway

ORG_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
DOMAIN = re.compile(r"^(?=.{1,253}$)([A-Za-z0-9-]{1,63}\.)+[A-Za-z]{2,63}$")


def organisation_from(org_id: str, name: str, domains: list[str]) -> Organisation:
    """Validate the fields; the first domain is the primary one.

    :raises ConfigError: naming the field that is wrong.
    """
    if not ORG_ID.match(org_id):
        raise ConfigError("id", "use 1-64 letters, digits, '.', '_' or '-'")
    cleaned = [d.strip().lower() for d in domains if d.strip()]
    if not cleaned:
        raise ConfigError("domains", "at least one domain is required")
    for domain in cleaned:
        if not DOMAIN.match(domain):
            raise ConfigError("domains", f"{domain!r} is not a domain name")
    return Organisation(id=org_id, name=name.strip() or org_id, domain=cleaned[0],
                        settings={"domains": cleaned[1:]})


async def create_organisation(gateway: Gateway, org: Organisation) -> Organisation:
    """Store a new organisation.

    :raises ConflictError: an organisation with that id exists.
    """
    if not await gateway.store.add_organisation(org):  # atomic: no check-then-write
        raise ConflictError(f"organisation {org.id!r} exists already")
    return org


def organisation_json(org: Organisation) -> dict[str, Any]:
    """An organisation as the admin API shows it."""
    return {"id": org.id, "name": org.name, "domain": org.domain,
            "domains": verified_domains(org), "provider": org.provider}
