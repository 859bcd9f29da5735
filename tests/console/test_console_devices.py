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
