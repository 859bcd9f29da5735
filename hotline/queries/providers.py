"""The service directory.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.models import (
    Provider,
)


def providers(session: Session) -> list[Provider]:
    return list(session.scalars(select(Provider).order_by(Provider.active.desc(), Provider.code)))
