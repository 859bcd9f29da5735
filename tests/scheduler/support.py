"""What the scheduler's wake tests share: a drain watched from the test thread, and a job
run in a thread of its own."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from hotline.services import outbox
from tests.fakes.gateway import ScriptedGateway


def set_after(monkeypatch, owner, name: str) -> threading.Event:
    """Wrap ``owner.name`` so that the returned event is set each time a call has returned."""
    done = threading.Event()
    real = getattr(owner, name)

    def wrapped(*args, **kwargs):
        value = real(*args, **kwargs)
        done.set()
        return value

    monkeypatch.setattr(owner, name, wrapped)
    return done


@dataclass
class WatchedDrain:
    gateway: ScriptedGateway
    sent: threading.Event  # the gateway was asked to send
    looked: threading.Event  # a drain pass has looked for due messages


def watch_drain(rt, monkeypatch) -> WatchedDrain:
    """Give ``rt`` a scripted SMS gateway and watch what the outbox's drain does with it."""
    gateway, sent = ScriptedGateway(), threading.Event()
    real_send = gateway.send_sms

    def send(*args, **kwargs):
        sent.set()
        return real_send(*args, **kwargs)

    monkeypatch.setattr(gateway, "send_sms", send)
    monkeypatch.setattr(type(rt), "sms_gateway", gateway, raising=False)
    return WatchedDrain(gateway, sent, set_after(monkeypatch, outbox, "drain"))


def in_thread(target, *args, **kwargs) -> tuple[threading.Thread, dict]:
    """Start ``target`` in a daemon thread; its return value lands in ``result["value"]``."""
    result: dict = {}
    thread = threading.Thread(
        target=lambda: result.update(value=target(*args, **kwargs)), daemon=True
    )
    thread.start()
    return thread, result
