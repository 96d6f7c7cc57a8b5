"""Table-driven detection over real-looking invitations, in plain, HTML and wrapped forms."""

from __future__ import annotations

import pytest

from hybrid_calendar.join_info import detect
from hybrid_calendar.models import JoinInfo

from .helpers import as_html, event, proofpoint_v2, proofpoint_v3, safelinks
from .invitations import INVITES, Invite

FORMS = ("plain", "html-visible", "html-hidden", "html-google", "safelinks", "proofpoint-v2",
         "proofpoint-v3")


def _render(invite: Invite, form: str) -> tuple[str, str]:
    """(description, location) of ``invite`` in ``form``."""
    body, location = invite.body, invite.location
    wrappers = {"safelinks": safelinks, "proofpoint-v2": proofpoint_v2,
                "proofpoint-v3": proofpoint_v3}
    if form in wrappers and invite.url and invite.url.startswith("http"):
        wrapped = wrappers[form](invite.url)
        body, location = body.replace(invite.url, wrapped), location.replace(invite.url, wrapped)
    elif form.startswith("html-") and invite.source == "body" and not invite.is_html:
        body = as_html(body, invite.url if invite.url and invite.url.startswith("http") else None,
                       form.removeprefix("html-"))
    return body, location


def _check(found: JoinInfo | None, invite: Invite) -> None:
    assert found is not None, invite.name
    assert (found.provider, found.url, found.dial, found.source) == (
        invite.provider, invite.url, invite.dial, invite.source)


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("invite", INVITES, ids=[i.name for i in INVITES])
def test_invitation(invite: Invite, form: str) -> None:
    body, location = _render(invite, form)
    _check(detect(event(body, location)), invite)


def test_every_form_really_changes_the_text() -> None:
    invite = INVITES[0]
    rendered = {_render(invite, form) for form in FORMS}
    assert len(rendered) == len(FORMS)
