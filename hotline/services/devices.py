"""The Android gateway phones (a SIM pool): which SIM a message leaves from, who is alive.

Every event a phone posts (``system:ping`` every few minutes, and each received text and
delivery report) marks it seen. A SIM silent for ``SILENT_AFTER`` is unhealthy: nothing new
is given to it, and in the daytime ``watch`` tells the coordinators (through another SIM, or
Twilio when no SIM is left) and moves what is queued on it to a healthy one.

Which SIM: a reply leaves from the one the member texted; anything else to someone who
texted before goes from that SIM too (it is the number she knows); a new conversation
prefers a SIM on her own network (same-network SMS is cheaper), then the SIM with the most
room left today.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from hotline import clock
from hotline.db import write_now
from hotline.models import Direction, Kind, Lane, Message, MessageStatus, Person, Role
from hotline.models.devices import SILENT_AFTER_MINUTES, GatewayDevice
from hotline.phones import carrier
from hotline.services.audit import audit
from hotline.services.errors import ServiceError
from hotline.text import clean

log = logging.getLogger(__name__)

SILENT_AFTER = timedelta(minutes=SILENT_AFTER_MINUTES)
# ``last_seen_at`` is written at most this often per phone: a busy phone's every event
# would otherwise be one more write in each webhook.
SEEN_EVERY = timedelta(seconds=30)


def healthy(device: GatewayDevice, now: datetime) -> bool:
    """Active and heard from within ``SILENT_AFTER``."""
    return bool(device.active and device.last_seen_at is not None
                and now - device.last_seen_at < SILENT_AFTER)


def silent_since(device: GatewayDevice) -> datetime:
    """Since when the SIM has said nothing (set up and never heard: since it was added)."""
    return device.last_seen_at or device.created_at


# --- webhooks: whose key, and seen ----------------------------------------------------------

def webhook_keys(sessions: sessionmaker[Session], app_device_id: str) -> list[str]:
    """The signing keys set for the phone ``app_device_id`` (each phone's app has its own,
    copied into the console); read before the event is trusted, so nothing is written."""
    with sessions() as session:
        return [key for key in session.scalars(
            select(GatewayDevice.webhook_secret).where(
                GatewayDevice.app_device_id == app_device_id,
                GatewayDevice.webhook_secret.is_not(None))) if key]


def mark_seen(engine: Engine, now: datetime, app_device_id: str, event: str) -> None:
    """``seen`` in a write of its own (an event that writes nothing else: ``system:ping``)."""
    write_now(engine, lambda conn: seen(conn, now, app_device_id, event))


def came_in_on(conn: Session | Connection, now: datetime, app_device_id: str,
               sim_number: int | None) -> int | None:
    """A text came in on that phone's SIM: mark the phone seen, return the SIM's row."""
    seen(conn, now, app_device_id, "sms:received")
    return sim_of(conn, app_device_id, sim_number)


def seen(conn: Session | Connection, now: datetime, app_device_id: str, event: str) -> int:
    """Mark the phone's SIMs seen now (any event counts); returns how many rows changed."""
    return conn.execute(
        update(GatewayDevice)
        .where(GatewayDevice.app_device_id == app_device_id,
               or_(GatewayDevice.last_seen_at.is_(None),
                   GatewayDevice.last_seen_at <= now - SEEN_EVERY))
        # The event name is the phone's free text: NUL or a lone surrogate would be a 500
        # on PostgreSQL, so it is stored cleaned like every other text.
        .values(last_seen_at=now, last_event=clean(event)[:32])
        .execution_options(synchronize_session=False)
    ).rowcount


def sim_of(conn: Session | Connection, app_device_id: str | None,
           sim_number: int | None) -> int | None:
    """The row of the SIM a text came in on: that slot of that phone, else the phone's only
    (or slot-less) row; None for a phone nobody set up."""
    if not app_device_id:
        return None
    rows = conn.execute(
        select(GatewayDevice.id, GatewayDevice.sim_number)
        .where(GatewayDevice.app_device_id == app_device_id)
    ).all()
    exact = [row_id for row_id, slot in rows if slot == sim_number]
    loose = [row_id for row_id, slot in rows if slot is None]
    if exact or loose:
        return (exact or loose)[0]
    return rows[0][0] if len(rows) == 1 else None


# --- choosing a SIM -------------------------------------------------------------------------

@dataclass
class Pool:
    """The active SIMs as one unit of work sees them, with what each was given today."""

    devices: list[GatewayDevice]
    now: datetime
    load: dict[int, int] = field(default_factory=dict)
    # The network of each number looked at (``carrier``: a parse per call, ~20 µs; a
    # broadcast or a batch of replies asks for the same numbers again).
    networks: dict[str, str | None] = field(default_factory=dict, repr=False)

    def choose(self, phone: str, *, texted: int | None = None,
               avoid: int | None = None) -> int | None:
        """The SIM a message to ``phone`` leaves from (see the module's rules); ``texted``
        is the SIM she texted (a reply, or her last text), ``avoid`` one not to use. None
        when no SIM is healthy: the gateway then picks as it would without a pool."""
        live = [d for d in self.devices if d.id != avoid and healthy(d, self.now)]
        if texted is not None and any(d.id == texted for d in live):
            chosen = texted
        elif not live:
            return None
        else:
            network = self.network(phone)
            same = [d for d in live if network and d.carrier == network]
            chosen = max(same or live, key=self.room).id
        self.load[chosen] = self.load.get(chosen, 0) + 1
        return chosen

    def network(self, phone: str) -> str | None:
        """``carrier(phone)``, looked up once per number in this unit of work."""
        if phone not in self.networks:
            self.networks[phone] = carrier(phone)
        return self.networks[phone]

    def room(self, device: GatewayDevice) -> tuple[int, int]:
        """What is left of the SIM's daily limit; ties go to the SIM set up first."""
        return device.daily_limit - self.load.get(device.id, 0), -device.id


def pool(session: Session, now: datetime) -> Pool | None:
    """The SIM pool, or None when no Android SIM is set up (the gateway's own default)."""
    devices = list(session.scalars(
        select(GatewayDevice).where(GatewayDevice.active.is_(True)).order_by(GatewayDevice.id)))
    if not devices:
        return None
    start = clock.local_day_bounds(now)[0]
    load = dict(session.execute(
        select(Message.device_id, func.count(Message.id))
        .where(Message.device_id.in_([d.id for d in devices]),
               Message.direction == Direction.OUT,
               or_(Message.sent_at >= start, Message.status == MessageStatus.QUEUED))
        .group_by(Message.device_id)
    ).all())
    return Pool(devices, now, load)


def last_texted(session: Session, phone: str) -> int | None:
    """The SIM ``phone`` last texted us on, if any."""
    return session.scalar(
        select(Message.device_id)
        .where(Message.phone == phone, Message.direction == Direction.IN,
               Message.device_id.is_not(None))
        .order_by(Message.created_at.desc()).limit(1))


# --- the watch --------------------------------------------------------------------------------

@dataclass
class WatchReport:
    silent: list[int] = field(default_factory=list)
    alerted: list[int] = field(default_factory=list)
    moved: int = 0


def watch(session: Session, now: datetime, outbox, settings) -> WatchReport:
    """Find silent SIMs; in the daytime tell the coordinators once per silence, and move
    the messages queued on a silent SIM to healthy ones (at night only the move: nobody is
    woken, and nothing waits on a dead phone). Safe to run at any moment, twice."""
    report = WatchReport()
    sims = pool(session, now)
    if sims is None:
        return report
    quiet_start, quiet_end = settings.quiet
    daytime = clock.in_window(now, quiet_end, quiet_start)
    for device in sims.devices:
        if healthy(device, now) or now - silent_since(device) < SILENT_AFTER:
            continue
        report.silent.append(device.id)
        report.moved += _move_queue(session, sims, device)
        alerted = device.silent_alerted_at
        if daytime and (alerted is None or alerted < silent_since(device)):
            _alert(session, now, outbox, sims, device, settings)
            device.silent_alerted_at = now
            report.alerted.append(device.id)
    session.flush()
    return report


def _move_queue(session: Session, sims: Pool, device: GatewayDevice) -> int:
    """Give each message queued on ``device`` to a healthy SIM (by the usual rules)."""
    queued = session.execute(
        select(Message.id, Message.phone)
        .where(Message.device_id == device.id, Message.status == MessageStatus.QUEUED,
               Message.direction == Direction.OUT)
    ).all()
    moves: dict[int, list[int]] = {}
    for message_id, phone in queued:
        target = sims.choose(phone, avoid=device.id)
        if target is None:
            break  # no SIM is healthy: they wait where they are
        moves.setdefault(target, []).append(message_id)
    moved = 0
    for target, ids in moves.items():
        for i in range(0, len(ids), 900):
            moved += session.execute(
                update(Message)
                .where(Message.id.in_(ids[i:i + 900]), Message.status == MessageStatus.QUEUED)
                .values(device_id=target)
                .execution_options(synchronize_session=False)
            ).rowcount
    if moved:
        log.warning("moved %d queued messages off silent SIM %s", moved, device.name)
    return moved


def _alert(session: Session, now: datetime, outbox, sims: Pool, device: GatewayDevice,
           settings) -> None:
    from hotline.templates import render

    coordinators = session.scalars(
        select(Person).where(Person.role == Role.COORDINATOR, Person.erased_at.is_(None),
                             Person.opted_out_at.is_(None))
    ).all()
    minutes = int((now - silent_since(device)).total_seconds() // 60)
    body = render("device_silent", name=device.name[:20], minutes=minutes)
    key = f"device-silent:{device.id}:{silent_since(device).isoformat()}"
    for person in coordinators:
        target = sims.choose(person.phone, avoid=device.id)
        gateway = None
        if target is None and settings.twilio_account_sid and settings.twilio_from:
            gateway = "twilio"  # no SIM left: the other channel
        outbox.enqueue(now, person.phone, body, kind=Kind.NORMAL, person=person,
                       key=f"{key}:{person.id}", device_id=target, gateway=gateway,
                       lane=Lane.ALERT)
    log.warning("SIM %s silent for %d min; %d coordinators told", device.name, minutes,
                len(coordinators))
    if not coordinators:
        log.error("SIM %s is silent and no coordinator has a phone to tell", device.name)


# --- setting up ---------------------------------------------------------------------------

class DeviceError(ServiceError, ValueError):
    """A SIM that cannot be saved as given; ``str(exc)`` is a message id for staff."""


def save(session: Session, now: datetime, *, name: str, app_device_id: str,
         sim_number: int | None = None, phone: str | None = None, send_rate: int = 6,
         daily_limit: int = 400, webhook_secret: str | None = None, active: bool = True,
         device: GatewayDevice | None = None) -> GatewayDevice:
    """Add a SIM of the pool (or change ``device``); the network comes from ``phone``."""
    from hotline.phones import PhoneError, normalize

    name, app_device_id = (name or "").strip()[:60], (app_device_id or "").strip()
    if not name or not app_device_id or len(app_device_id) > 64 \
            or not app_device_id.isprintable():
        raise DeviceError("A SIM needs a name and the app's device id (at most 64 characters).")
    if sim_number is not None and not 1 <= sim_number <= 3:
        raise DeviceError("The SIM slot is 1, 2 or 3.")
    if not 1 <= send_rate <= 600 or not 1 <= daily_limit <= 100_000:
        raise DeviceError("The send rate is 1 to 600 a minute, the daily limit 1 to 100000.")
    try:
        phone = normalize(phone) if phone else None
    except PhoneError:
        raise DeviceError("The SIM's number is not a Vietnamese phone number.") from None
    twin = session.scalar(select(GatewayDevice).where(
        GatewayDevice.app_device_id == app_device_id,
        GatewayDevice.sim_number.is_(None) if sim_number is None
        else GatewayDevice.sim_number == sim_number))
    if twin is not None and twin is not device:
        raise DeviceError("That phone's SIM slot is set up already.")
    if device is None:
        device = GatewayDevice(created_at=now)
        session.add(device)
    device.name, device.app_device_id, device.sim_number = name, app_device_id, sim_number
    device.phone, device.carrier = phone, carrier(phone)
    device.send_rate, device.daily_limit, device.active = send_rate, daily_limit, active
    if webhook_secret:
        device.webhook_secret = webhook_secret.strip()[:128]
    session.flush()
    return device


def save_audited(session: Session, now: datetime, admin, device: GatewayDevice | None = None,
                 **fields) -> GatewayDevice:
    """``save`` (``fields`` are its keywords) by a console admin, audited (the signing key
    never is: only whether it changed). An empty key keeps the key set before."""
    key = (fields.pop("webhook_secret", None) or "").strip()
    saved = save(session, now, webhook_secret=key or None, device=device, **fields)
    audit(session, now, admin, "device_edit" if device is not None else "device_add",
          "gateway_device", saved.id, name=saved.name, sim=saved.sim_number,
          rate=saved.send_rate, limit=saved.daily_limit, active=saved.active,
          key_changed=bool(key))
    return saved


# --- what staff see -------------------------------------------------------------------------

def listing(session: Session, now: datetime) -> list[tuple[GatewayDevice, dict]]:
    """Each SIM with its ``health``, for the console's page of SIMs."""
    rows = {d.id: d for d in session.scalars(select(GatewayDevice))}
    return [(rows[h["id"]], h) for h in health(session, now)]


def health(session: Session, now: datetime) -> list[dict]:
    """Each SIM's health for ``/healthz`` details and the dashboard."""
    start = clock.local_day_bounds(now)[0]
    sent = dict(session.execute(
        select(Message.device_id, func.count(Message.id))
        .where(Message.device_id.is_not(None), Message.sent_at >= start)
        .group_by(Message.device_id)).all())
    queued = dict(session.execute(
        select(Message.device_id, func.count(Message.id))
        .where(Message.device_id.is_not(None), Message.status == MessageStatus.QUEUED)
        .group_by(Message.device_id)).all())
    out = []
    for d in session.scalars(select(GatewayDevice).order_by(GatewayDevice.id)):
        out.append({
            "id": d.id, "name": d.name, "sim": d.sim_number, "carrier": d.carrier,
            "active": d.active, "healthy": healthy(d, now),
            "last_seen_age_s": None if d.last_seen_at is None
            else round((now - d.last_seen_at).total_seconds()),
            "last_event": d.last_event, "send_rate_per_min": d.send_rate,
            "sent_today": sent.get(d.id, 0), "daily_limit": d.daily_limit,
            "queued": queued.get(d.id, 0),
        })
    return out


# --- the drain's pace ---------------------------------------------------------------------

# A SIM whose next slot is this close is waited for; a later one is left for the next run.
WAIT_AT_MOST = 1.0


@dataclass
class SimPace:
    """Each SIM's send rate and daily limit as one drain run keeps them: ``next_at`` is the
    wall-clock moment its next message may go, ``sent`` what it sent today."""

    devices: dict[int, GatewayDevice]
    sent: dict[int, int]
    next_at: dict[int, datetime]

    def blocked(self, now: datetime) -> list[int]:
        """SIMs with nothing to send in this run: at their daily limit or not due yet."""
        return [i for i, d in self.devices.items()
                if self.sent.get(i, 0) >= d.daily_limit
                or (self.next_at.get(i, now) - now).total_seconds() > WAIT_AT_MOST]

    def wait(self, device_id: int | None, now: datetime) -> float | None:
        """Seconds to wait before the SIM may send at ``now`` (0: at once), None: not in
        this run. A message with no SIM, or one nobody set up, goes at once."""
        device = self.devices.get(device_id) if device_id is not None else None
        if device is None:
            return 0.0
        if self.sent.get(device.id, 0) >= device.daily_limit:
            return None
        wait = (self.next_at.get(device.id, now) - now).total_seconds()
        return max(wait, 0.0) if wait <= WAIT_AT_MOST else None

    def took(self, device_id: int | None, now: datetime) -> None:
        """The SIM sent one at ``now``."""
        device = self.devices.get(device_id) if device_id is not None else None
        if device is not None:
            self.sent[device.id] = self.sent.get(device.id, 0) + 1
            self.next_at[device.id] = now + _interval(device)


def _interval(device: GatewayDevice) -> timedelta:
    return timedelta(minutes=1) / max(device.send_rate, 1)


def sim_pace(session: Session, now: datetime) -> SimPace | None:
    """The SIMs' pace at ``now`` from what they sent today; None when no SIM is set up."""
    devices = {d.id: d for d in session.scalars(select(GatewayDevice))}
    if not devices:
        return None
    start = clock.local_day_bounds(now)[0]
    sent, next_at = {}, {}
    for device_id, count, last in session.execute(
        select(Message.device_id, func.count(Message.id), func.max(Message.sent_at))
        .where(Message.device_id.in_(list(devices)), Message.sent_at >= start)
        .group_by(Message.device_id)
    ):
        sent[device_id] = count
        if last is not None:
            next_at[device_id] = last + _interval(devices[device_id])
    return SimPace(devices, sent, next_at)


# --- how fast the line can send -------------------------------------------------------------

@dataclass(frozen=True)
class Throughput:
    """What the line can send: ``per_minute`` (None: no limit), and per Hanoi day (None: no
    limit) with ``left_today`` of it still open today."""

    per_minute: float | None
    per_day: int | None = None
    left_today: int | None = None


def throughput(session: Session, now: datetime, settings) -> Throughput | None:
    """The real send rate: on Android phones the healthy SIMs' own rates and daily limits
    (None when no SIM is healthy: nothing goes out until one is); otherwise the gateway's
    ``HOTLINE_SEND_RATE``."""
    gateway_rate = settings.send_rate * 60 if settings.send_rate > 0 else None
    sims = pool(session, now) if settings.sms_gateway == "android" else None
    if sims is None:
        return Throughput(gateway_rate)
    live = [d for d in sims.devices if healthy(d, now)]
    if not live:
        return None
    start = clock.local_day_bounds(now)[0]
    sent = dict(session.execute(
        select(Message.device_id, func.count(Message.id))
        .where(Message.device_id.in_([d.id for d in live]), Message.sent_at >= start)
        .group_by(Message.device_id)).all())
    per_minute = float(sum(d.send_rate for d in live))
    if gateway_rate is not None:
        per_minute = min(per_minute, gateway_rate)
    per_day = sum(d.daily_limit for d in live)
    left = sum(max(d.daily_limit - sent.get(d.id, 0), 0) for d in live)
    return Throughput(per_minute, per_day, left)
