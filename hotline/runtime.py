"""What a running process holds: settings, the engine, a session factory, gateways."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from hotline.config import Settings
from hotline.db import make_engine, make_sessionmaker
from hotline.gateways import registry


@dataclass
class Runtime:
    settings: Settings
    engine: Engine = field(init=False)
    sessions: sessionmaker[Session] = field(init=False)

    def __post_init__(self) -> None:
        self.engine = make_engine(self.settings.database_url)
        self.sessions = make_sessionmaker(self.engine)

    @cached_property
    def sms_gateway(self):
        return registry.sms_gateway(self.settings)

    @cached_property
    def pacer(self):
        """Spaces this process's sends at the gateway's rate, across drain runs."""
        from hotline.services.outbox import pacer_for

        return pacer_for(self.settings, self.engine)

    @cached_property
    def voice_gateway(self):
        return registry.voice_gateway(self.settings)

    def close(self) -> None:
        self.engine.dispose()
