"""The Android gateway SIMs on the dashboard, and a broadcast's finish time from their rates."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from hotline.models import Broadcast, Kind
from hotline.services import broadcasts
from hotline.services.outbox import Outbox
from tests.console.conftest import NOW, group
from tests.factories import create_device


@pytest.fixture
def settings(settings):
    return settings.replace(sms_gateway="android", android_password="pw")


@pytest.fixture
def sims(demo):
    working = create_device(demo, NOW, app_device_id="phone-A", sim_number=1,
                            name="Viettel Long Bien", phone="+84981111111", send_rate=3)
    quiet = create_device(demo, NOW, app_device_id="phone-B", name="Vina Hoan Kiem",
                          phone="+84941111111", seen=NOW - timedelta(minutes=40))
    demo.commit()
    return working, quiet


def test_dashboard_shows_each_sim_and_which_is_silent(as_user, sims):
    page = as_user("dieuphoi").get("/console/dashboard").get_data(as_text=True)
    assert 'id="devices"' in page
    assert "Viettel Long Bien (1)" in page and "viettel" in page
    assert "đang hoạt động" in page and "mất liên lạc" in page and "40 phút trước" in page


def test_dashboard_without_a_pool_has_no_phone_card(as_user, demo):
    page = as_user("dieuphoi").get("/console/dashboard").get_data(as_text=True)
    assert 'id="devices"' not in page


def test_broadcast_preview_shows_when_it_would_finish(as_user, demo, sims):
    cd01 = group(demo, "CD01")  # three members; the one working SIM sends 3 a minute
    page = as_user("admin").get("/console/broadcasts", query_string={
        "text": "Hop nhom", "group_id": cd01.id}).get_data(as_text=True)
    assert 'id="finish">10/03/2026 10:01<' in page  # NOW is 10:00 in Hanoi


def test_a_sending_broadcast_shows_its_finish_behind_the_queue(as_user, demo, sims):
    cd01 = group(demo, "CD01")
    broadcast = broadcasts.create(demo, NOW, "Hop nhom", {"group_id": str(cd01.id)})
    box = Outbox(demo, gateway="android")
    for i in range(6):  # replies and alerts ahead of the broadcast: two minutes at 3/min
        box.enqueue(NOW, f"+8498111{i:04d}", "x", kind=Kind.URGENT)
    broadcasts.queue(demo, NOW, box, broadcast)
    demo.commit()
    assert demo.scalar(select(Broadcast)).id == broadcast.id
    page = as_user("admin").get("/console/broadcasts").get_data(as_text=True)
    assert "Dự kiến gửi xong: 10/03/2026 10:03" in page  # 6 ahead + 3 of it, at 3 a minute


def test_admin_adds_and_changes_a_sim_audited_without_the_key(as_user, demo):
    from hotline.models import AuditLog, GatewayDevice

    admin = as_user("admin")
    added = admin.post("/console/devices", data={
        "name": "Viettel 2", "app_device_id": "yVULogr4Y1ksRfnos1Dsw", "sim_number": "2",
        "phone": "0981 111 111", "send_rate": "4", "daily_limit": "300",
        "webhook_secret": "phone-key"})
    assert added.status_code == 302
    sim = demo.scalar(select(GatewayDevice))
    assert (sim.sim_number, sim.phone, sim.carrier, sim.send_rate, sim.webhook_secret) == (
        2, "+84981111111", "viettel", 4, "phone-key")
    admin.post(f"/console/devices/{sim.id}", data={
        "name": "Viettel 2", "app_device_id": sim.app_device_id, "sim_number": "2",
        "send_rate": "8", "daily_limit": "300", "active": "0", "webhook_secret": ""})
    demo.expire_all()
    sim = demo.get(GatewayDevice, sim.id)
    assert (sim.send_rate, sim.active, sim.webhook_secret) == (8, False, "phone-key")
    logged = demo.scalars(select(AuditLog).where(AuditLog.object_type == "gateway_device")).all()
    assert [a.action for a in logged] == ["device_add", "device_edit"]
    assert all("phone-key" not in str(a.detail) for a in logged)
    page = admin.get("/console/devices").get_data(as_text=True)
    assert "Viettel 2" in page and "phone-key" not in page


@pytest.mark.parametrize("form, message", [
    ({"name": "", "app_device_id": "x"}, "SIM cần có tên"),
    ({"name": "a", "app_device_id": "x", "sim_number": "7"}, "Khe SIM là 1, 2 hoặc 3"),
    ({"name": "a", "app_device_id": "x", "send_rate": "lots"}, "phải là số nguyên"),
    ({"name": "a", "app_device_id": "x", "send_rate": "0"}, "Tốc độ gửi"),
    ({"name": "a", "app_device_id": "x", "phone": "+33612345678"}, "không phải số điện thoại"),
])
def test_bad_sim_input_is_a_clear_message_not_a_500(as_user, demo, form, message):
    from hotline.models import GatewayDevice

    response = as_user("admin").post("/console/devices", data=form, follow_redirects=True)
    assert response.status_code == 200 and message in response.get_data(as_text=True)
    assert demo.scalar(select(GatewayDevice)) is None


def test_only_admins_set_up_sims(as_user, demo):
    coordinator = as_user("dieuphoi")
    assert coordinator.get("/console/devices").status_code == 403
    assert coordinator.post("/console/devices", data={"name": "a", "app_device_id": "x"}
                            ).status_code == 403
    assert as_user("admin").post("/console/devices/999", data={}).status_code == 404
