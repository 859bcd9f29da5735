"""The Callbacks page: every promise to call back, where it stands, and why one failed."""

from __future__ import annotations

from datetime import timedelta

from hotline.models import CallbackStatus
from hotline.queries.callbacks import callbacks
from hotline.services import calls
from tests.console.conftest import HANG, NGA, NOW, YEN, person


def _callbacks(demo):
    queued = calls.queue_callback(demo, NOW, HANG, person(demo, HANG), reason="sms")
    failed = calls.queue_callback(demo, NOW - timedelta(hours=2), NGA, person(demo, NGA),
                                  reason="missed_call")
    for attempt in range(1, calls.MAX_ATTEMPTS + 1):  # every try unanswered, as the job does
        failed.attempts = attempt
        failed.note = f"{failed.note}\nattempt {attempt}: no-answer".strip()
        calls.settle(failed, "no-answer", NOW - timedelta(hours=1))
    answered = calls.queue_callback(demo, NOW - timedelta(days=1), YEN, person(demo, YEN),
                                    reason="ivr")
    answered.attempts = 1
    calls.settle(answered, "completed", NOW - timedelta(days=1))
    demo.commit()
    return queued, failed, answered


def test_callbacks_page_person_page_and_dashboard(as_user, demo):
    queued, failed, answered = _callbacks(demo)
    assert failed.status == CallbackStatus.GIVEN_UP
    coordinator = as_user("dieuphoi")
    page = coordinator.get("/console/callbacks").get_data(as_text=True)
    for cb in (queued, failed, answered):
        assert f'data-id="{cb.id}"' in page
    assert "Chờ gọi" in page and "Đã nghe máy" in page and "Thất bại: không ai nghe máy" in page
    assert "Xin qua tin nhắn (GOI)" in page and "Nháy máy" in page
    assert "attempt 4: no-answer" in page  # the reason of the failure, as the job wrote it
    assert "0*** *** 001" in page  # Hằng's number, masked
    only_failed = coordinator.get("/console/callbacks?status=given_up").get_data(as_text=True)
    assert f'data-id="{failed.id}"' in only_failed and f'data-id="{queued.id}"' not in only_failed

    # Retries left: all four for the new one, none for the ones that ended.
    rows = {r.callback.id: r for r in callbacks(demo)}
    assert rows[queued.id].retries_left == calls.MAX_ATTEMPTS
    assert rows[failed.id].retries_left == 0 and rows[answered.id].retries_left == 0

    mine = coordinator.get(f"/console/people/{person(demo, NGA).id}").get_data(as_text=True)
    assert f'data-id="{failed.id}"' in mine and f'data-id="{queued.id}"' not in mine

    dashboard = coordinator.get("/console/dashboard").get_data(as_text=True)
    tile = dashboard[dashboard.index('id="callbacks-failed"'):][:400]
    assert "<b>1</b>" in tile


def test_alert_calls_to_responders_are_not_member_callbacks(demo):
    calls.queue_callback(demo, NOW, "+84901000001", person(demo, "+84901000001"),
                         reason=calls.ALERT_REASON, urgent=True)
    demo.commit()
    assert callbacks(demo) == []


def test_peer_educators_do_not_see_the_callbacks_page(as_user, demo):
    assert as_user("hoa").get("/console/callbacks").status_code == 403
