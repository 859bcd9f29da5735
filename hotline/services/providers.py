"""The service directory: the providers peer educators refer members to.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.models import (
    Provider,
    StaffUser,
)
from hotline.services.audit import audit
from hotline.services.errors import N_, ServiceError


def save_provider(session: Session, now: datetime, user: StaffUser, provider: Provider | None,
                  *, code: str, name: str, phone: str = "", handles: str = "", hours: str = "",
                  address: str = "", active: bool = True) -> Provider:
    """Add a service of the directory (``provider`` None) or change one; codes are unique."""
    code, name = code.strip().upper()[:12], name.strip()[:160]
    if not code or not name or not code.replace("_", "").isalnum():
        raise ServiceError(N_("A service needs a code (letters and digits) and a name."))
    clash = session.scalar(select(Provider).where(Provider.code == code))
    if clash is not None and clash is not provider:
        raise ServiceError(N_("Another service has this code."))
    created = provider is None
    if provider is None:
        provider = Provider(code=code, name=name)
        session.add(provider)
    provider.code, provider.name = code, name
    provider.phone = phone.strip()[:40]
    provider.handles = handles.strip()[:2000]
    provider.hours = hours.strip()[:120]
    provider.address = address.strip()[:200]
    provider.active = active
    session.flush()
    audit(session, now, user, "provider_add" if created else "provider_edit", "provider",
          provider.id, code=code, active=provider.active)
    return provider
