"""The Android SIM pool: which SIM a message leaves from, pace, silence, alerts, moves."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from hotline.db import session_scope
from hotline.gateways.android import AndroidGateway
from hotline.gateways.twilio import TwilioGateway
from hotline.models import GatewayDevice, Kind, Message, MessageStatus, Role
from hotline.services import devices, outbox
from hotline.services.outbox import Outbox
from tests.conftest import at
from tests.factories import create_device, create_person
from tests.fakes.android_server import FakeAndroid
from tests.fakes.twilio_server import FakeTwilio

DAY = at("2026-12-01 10:00")
NIGHT = at("2026-12-01 23:00")
VIETTEL, VINAPHONE, MOBIFONE = "+84961234567", "+84912345678", "+84901234567"


@pytest.fixture
def fake():
    with FakeAndroid(login="hl", password="pw") as server:
        yield server


@pytest.fixture
def android(fake):
    gw = AndroidGateway(fake.base_url, "hl", "pw", timeout=0.5)
    yield gw
    gw.close()


def sims(db, now=DAY, **seen):
    """A Viettel SIM and a VinaPhone SIM in one dual-SIM phone; ``seen`` overrides."""
    viettel = create_device(db, now - timedelta(days=1), app_device_id="phone-A", sim_number=1,
                            phone="+84981111111", seen=seen.get("viettel", now))
    vina = create_device(db, now - timedelta(days=1), app_device_id="phone-B", sim_number=1,
                         phone="+84941111111", seen=seen.get("vina", now))
    db.commit()
    return viettel, vina


def test_sim_carrier_comes_from_its_number(db):
    viettel, vina = sims(db)
    assert (viettel.carrier, vina.carrier) == ("viettel", "vinaphone")


def test_new_conversation_prefers_a_sim_on_her_network(db):
    viettel, vina = sims(db)
    box = Outbox(db, gateway="android")
    to_viettel = box.enqueue(DAY, VIETTEL, "a", kind=Kind.URGENT)
    to_vina = box.enqueue(DAY, VINAPHONE, "b", kind=Kind.URGENT)
    to_mobifone = box.enqueue(DAY, MOBIFONE, "c", kind=Kind.URGENT)  # no MobiFone SIM
    assert (to_viettel.device_id, to_vina.device_id) == (viettel.id, vina.id)
    assert to_mobifone.device_id in (viettel.id, vina.id)


def test_no_new_message_goes_to_a_silent_sim(db):
    viettel, vina = sims(db, viettel=DAY - timedelta(minutes=16))
    msg = Outbox(db, gateway="android").enqueue(DAY, VIETTEL, "a", kind=Kind.URGENT)
    assert msg.device_id == vina.id


def test_someone_who_texted_a_sim_hears_from_it_again(db):
    viettel, vina = sims(db)
    db.add(Message(direction="in", gateway="android", external_id="e1", phone=VIETTEL,
                   body="KN", status=MessageStatus.RECEIVED, created_at=DAY, device_id=vina.id))
    db.flush()
    msg = Outbox(db, gateway="android").enqueue(DAY, VIETTEL, "a", kind=Kind.URGENT)
    assert msg.device_id == vina.id  # the number she knows, though Viettel is cheaper


def test_no_pool_no_sim(db):
    assert Outbox(db, gateway="android").enqueue(DAY, VIETTEL, "a").device_id is None


def test_broadcast_spreads_by_network(db):
    viettel, vina = sims(db)
    people = [create_person(db, DAY, phone=p) for p in (VIETTEL, "+84971234567", VINAPHONE)]
    Outbox(db, gateway="android").enqueue_many(DAY, people, "Hop nhom", key_prefix="b1")
    got = dict(db.execute(select(Message.phone, Message.device_id)).all())
    assert got == {VIETTEL: viettel.id, "+84971234567": viettel.id, VINAPHONE: vina.id}


def test_send_goes_from_the_sims_phone_and_slot(sessions, settings, fake, android):
    with session_scope(sessions) as s:
        sim = create_device(s, DAY, app_device_id=fake.device_id, sim_number=2,
                            phone="+84981111111")
        Outbox(s, gateway="android").enqueue(DAY, VIETTEL, "a", kind=Kind.URGENT)
    assert outbox.drain(sessions, DAY, android, settings).sent == 1
    assert (fake.last.json["deviceId"], fake.last.json["simNumber"]) == (fake.device_id, 2)
    with sessions() as s:
        assert s.scalar(select(Message.device_id)) == sim.id


def test_each_sim_keeps_its_own_rate(sessions, settings, fake, android):
    with session_scope(sessions) as s:
        slow = create_device(s, DAY, app_device_id="slow", phone="+84981111111", send_rate=2)
        fast = create_device(s, DAY, app_device_id="fast", phone="+84941111111", send_rate=600)
        box = Outbox(s, gateway="android")
        for i in range(3):
            box.enqueue(DAY, VIETTEL, f"v{i}", kind=Kind.URGENT)
            box.enqueue(DAY, VINAPHONE, f"n{i}", kind=Kind.URGENT)

    first = outbox.drain(sessions, DAY, android, settings)

    by_phone = [r.json["deviceId"] for r in fake.requests]
    assert by_phone.count("fast") == 3  # 600/min: all three at once
    assert by_phone.count("slow") == 1  # 2/min: one now, the next in 30 s
    assert first.sent == 4
    assert outbox.drain(sessions, DAY + timedelta(seconds=10), android, settings).sent == 0
    assert outbox.drain(sessions, DAY + timedelta(seconds=31), android, settings).sent == 1
    with sessions() as s:
        left = s.scalars(select(Message.device_id).where(
            Message.status == MessageStatus.QUEUED)).all()
    assert left == [slow.id] and fast.id not in left


def test_a_sim_at_its_daily_limit_sends_no_more_today(sessions, settings, fake, android):
    with session_scope(sessions) as s:
        create_device(s, DAY, app_device_id="tiny", phone="+84981111111", daily_limit=2,
                      send_rate=600)
        box = Outbox(s, gateway="android")
        for i in range(3):
            box.enqueue(DAY, VIETTEL, f"v{i}", kind=Kind.URGENT)
    assert outbox.drain(sessions, DAY, android, settings).sent == 2
    assert outbox.drain(sessions, DAY + timedelta(hours=1), android, settings).sent == 0
    assert outbox.drain(sessions, at("2026-12-02 08:00"), android, settings).sent == 1


def coordinator(db, phone="+84987654321"):
    return create_person(db, DAY, phone=phone, role=Role.COORDINATOR)


class TestSilentSim:
    @pytest.fixture
    def settings(self, settings):
        return settings.replace(sms_gateway="android")

    def test_silence_alerts_the_coordinator_through_another_sim_and_moves_the_queue(
            self, db, settings):
        boss = coordinator(db)
        viettel, vina = sims(db, viettel=DAY - timedelta(minutes=20))
        queued = [Message(direction="out", gateway="android", phone=VIETTEL, body=f"m{i}",
                          status=MessageStatus.QUEUED, kind=Kind.NORMAL, due_at=DAY,
                          created_at=DAY, device_id=viettel.id) for i in range(3)]
        db.add_all(queued)
        db.commit()

        report = devices.watch(db, DAY, Outbox.for_settings(db, settings), settings)
        db.commit()

        assert report.silent == [viettel.id] and report.alerted == [viettel.id]
        assert report.moved == 3
        assert {m.device_id for m in queued if db.refresh(m) is None} == {vina.id}
        [alert] = db.scalars(select(Message).where(Message.person_id == boss.id)).all()
        assert alert.device_id == vina.id and alert.gateway == "android"
        assert viettel.name in alert.body and "20 phut" in alert.body

        again = devices.watch(db, DAY + timedelta(minutes=5), Outbox.for_settings(db, settings),
                              settings)
        assert again.alerted == []  # once per silence

    def test_a_healthy_sim_is_left_alone(self, db, settings):
        coordinator(db)
        sims(db, viettel=DAY - timedelta(minutes=14))
        report = devices.watch(db, DAY, Outbox.for_settings(db, settings), settings)
        assert report.silent == [] and db.scalar(select(Message.id)) is None

    def test_at_night_the_queue_moves_but_nobody_is_woken(self, db, settings):
        coordinator(db)
        viettel, vina = sims(db, NIGHT, viettel=NIGHT - timedelta(hours=1))
        db.add(Message(direction="out", gateway="android", phone=VIETTEL, body="m",
                       status=MessageStatus.QUEUED, kind=Kind.URGENT, due_at=NIGHT,
                       created_at=NIGHT, device_id=viettel.id))
        db.commit()
        report = devices.watch(db, NIGHT, Outbox.for_settings(db, settings), settings)
        assert report.moved == 1 and report.alerted == []
        morning = at("2026-12-02 07:05")
        vina.last_seen_at = morning
        later = devices.watch(db, morning, Outbox.for_settings(db, settings), settings)
        assert later.alerted == [viettel.id]  # told once it is day

    def test_a_sim_silent_again_after_coming_back_alerts_again(self, db, settings):
        coordinator(db)
        viettel, _ = sims(db, viettel=DAY - timedelta(minutes=20))
        devices.watch(db, DAY, Outbox.for_settings(db, settings), settings)
        viettel.last_seen_at = DAY + timedelta(minutes=1)  # back
        for d in db.scalars(select(GatewayDevice)):
            d.last_seen_at = DAY + timedelta(minutes=30)
        viettel.last_seen_at = DAY + timedelta(minutes=1)
        report = devices.watch(db, DAY + timedelta(minutes=30),
                               Outbox.for_settings(db, settings), settings)
        assert report.alerted == [viettel.id]

    def test_no_sim_left_alerts_through_twilio(self, sessions, settings, android):
        sid, token = "AC" + "1" * 32, "tok"
        settings = settings.replace(twilio_account_sid=sid, twilio_auth_token=token,
                                    twilio_from="+15005550006")
        with session_scope(sessions) as s:
            boss = coordinator(s)
            create_device(s, DAY - timedelta(hours=2), app_device_id="only",
                          phone="+84981111111", seen=DAY - timedelta(hours=1))
        with session_scope(sessions) as s:
            devices.watch(s, DAY, Outbox.for_settings(s, settings), settings)
        with FakeTwilio(account_sid=sid, auth_token=token) as twilio:
            gw = TwilioGateway(sid, token, "+15005550006", api_base_url=twilio.url, timeout=1)
            report = outbox.drain(sessions, DAY, android, settings, others={"twilio": gw})
            assert report.sent == 1
            assert twilio.last.form["To"] == boss.phone
        with sessions() as s:
            assert s.scalar(select(Message.gateway)) == "twilio"

    def test_health_lists_each_sim(self, db):
        viettel, vina = sims(db, viettel=DAY - timedelta(minutes=20))
        got = {h["id"]: h for h in devices.health(db, DAY)}
        assert got[viettel.id]["healthy"] is False and got[vina.id]["healthy"] is True
        assert got[viettel.id]["last_seen_age_s"] == 1200
        assert got[vina.id]["carrier"] == "vinaphone"


def test_cli_adds_and_lists_sims(runner, sessions):
    added = runner.invoke(args=["devices", "add", "Viettel Long Bien", "dev-1", "--sim", "2",
                                "--phone", "0981 111 111", "--rate", "4", "--key", "k1"])
    assert added.exit_code == 0, added.output
    with sessions() as s:
        sim = s.scalar(select(GatewayDevice))
    assert (sim.sim_number, sim.phone, sim.carrier, sim.send_rate, sim.webhook_secret) == (
        2, "+84981111111", "viettel", 4, "k1")
    twice = runner.invoke(args=["devices", "add", "again", "dev-1", "--sim", "2"])
    assert twice.exit_code != 0 and "set up already" in twice.output
    bad = runner.invoke(args=["devices", "add", "x", "dev-2", "--phone", "12345"])
    assert bad.exit_code != 0 and "not a Vietnamese phone number" in bad.output
    assert "12345" not in bad.output.replace("dev-2", "")
    listed = runner.invoke(args=["devices", "list"])
    assert "Viettel Long Bien" in listed.output and "0/400 today" in listed.output


class TestExpectedFinish:
    """A broadcast's finish time from the real send rates, hours and daily limits."""

    def finish(self, db, settings, n, **kw):
        from hotline.services.broadcasts import expected_finish

        return expected_finish(db, DAY, n, settings.replace(sms_gateway="android"), **kw)

    def test_from_the_healthy_sims_rates(self, db, settings):
        sims(db)  # two SIMs at the default 6 a minute: 12 a minute
        assert self.finish(db, settings, 120) == DAY + timedelta(minutes=10)

    def test_a_silent_sim_does_not_count(self, db, settings):
        sims(db, viettel=DAY - timedelta(hours=1))
        assert self.finish(db, settings, 120) == DAY + timedelta(minutes=20)

    def test_no_sim_sending_means_unknown(self, db, settings):
        sims(db, viettel=DAY - timedelta(hours=1), vina=DAY - timedelta(hours=1))
        assert self.finish(db, settings, 10) is None

    def test_quiet_hours_and_daily_limits_carry_it_over(self, db, settings):
        for device in sims(db):
            device.daily_limit = 100
        db.flush()
        # 12/min from 10:00 would take 25 min, but 200 a day is the limit: 200 today by
        # 10:16:40, the other 100 from 07:00 tomorrow at 12 a minute.
        assert self.finish(db, settings, 300) == at("2026-12-02 07:00") + timedelta(
            minutes=100 / 12)

    def test_messages_queued_ahead_go_first(self, db, settings):
        sims(db)
        assert self.finish(db, settings, 60, ahead=60) == DAY + timedelta(minutes=10)

    def test_without_a_pool_the_gateways_rate(self, db, settings):
        from hotline.services.broadcasts import expected_finish

        twilio = settings.replace(sms_gateway="twilio", send_rate=2)  # 120 a minute
        assert expected_finish(db, DAY, 1200, twilio) == DAY + timedelta(minutes=10)
        late = at("2026-12-01 20:55")  # 600 of them before 21:00, the rest from 07:00
        assert expected_finish(db, late, 1200, twilio) == at("2026-12-02 07:05")


def test_a_reply_waiting_for_its_sim_does_not_hold_up_other_sims_broadcast(
        sessions, settings, fake, android):
    from hotline.models import Lane

    with session_scope(sessions) as s:
        slow = create_device(s, DAY, app_device_id="slow", phone="+84981111111", send_rate=1)
        fast = create_device(s, DAY, app_device_id="fast", phone="+84941111111", send_rate=600)
        s.add(Message(direction="out", gateway="android", phone=VIETTEL, body="just sent",
                      status=MessageStatus.SENT, created_at=DAY, sent_at=DAY,
                      device_id=slow.id))  # its next slot is a minute away
        box = Outbox(s, gateway="android")
        reply = box.enqueue(DAY, VIETTEL, "reply", kind=Kind.REPLY, device_id=slow.id)
        for i in range(3):
            box.enqueue(DAY, VINAPHONE, f"b{i}", lane=Lane.BROADCAST, device_id=fast.id)
        assert reply.device_id == slow.id

    report = outbox.drain(sessions, DAY + timedelta(seconds=5), android, settings)

    assert report.sent == 3 and [r.json["deviceId"] for r in fake.requests] == ["fast"] * 3
    with sessions() as s:
        assert s.get(Message, reply.id).status == MessageStatus.QUEUED
    later = outbox.drain(sessions, DAY + timedelta(seconds=61), android, settings)
    assert later.sent == 1 and fake.last.json["deviceId"] == "slow"
