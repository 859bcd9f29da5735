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

    def sms_gateway_named(self, name: str):
        """The SMS gateway called ``name``: the configured one, or one built from the same
        settings (messages sent before the setting changed still belong to the gateway that
        sent them); None when it cannot be built."""
        if name == self.settings.sms_gateway:
            return self.sms_gateway
        others = self.__dict__.setdefault("_other_sms_gateways", {})
        if name not in others:
            try:
                others[name] = registry.sms_gateway(self.settings.replace(sms_gateway=name))
            except (ValueError, TypeError):
                others[name] = None
        return others[name]

    @cached_property
    def pacer(self):
        """Spaces this process's sends at the gateway's rate, across drain runs."""
        from hotline.services.outbox import pacer_for

        return pacer_for(self.settings, self.engine)

    @cached_property
    def other_sms_gateways(self) -> dict:
        """Gateways a message may name besides the main one: Twilio, when it is set up and
        the line's SMS go through Android phones (an alert that the phones are down)."""
        s = self.settings
        if s.sms_gateway != "twilio" and s.twilio_account_sid and s.twilio_auth_token \
                and s.twilio_from:
            return {"twilio": registry.build("twilio", s)}
        return {}

    @cached_property
    def voice_gateway(self):
        return registry.voice_gateway(self.settings)

    def close(self) -> None:
        self.engine.dispose()
