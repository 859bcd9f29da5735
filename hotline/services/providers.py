"""The service directory: the providers peer educators refer members to.
"""

from __future__ import annotations

from collections.abc import Mapping
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
                  form: Mapping[str, str]) -> Provider:
    code = (form.get("code") or "").strip().upper()[:12]
    name = (form.get("name") or "").strip()[:160]
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
    provider.phone = (form.get("phone") or "").strip()[:40]
    provider.handles = (form.get("handles") or "").strip()[:2000]
    provider.hours = (form.get("hours") or "").strip()[:120]
    provider.address = (form.get("address") or "").strip()[:200]
    provider.active = form.get("active", "1") == "1"
    session.flush()
    audit(session, now, user, "provider_add" if created else "provider_edit", "provider",
          provider.id, code=code, active=provider.active)
    return provider
