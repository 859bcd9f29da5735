"""A complaint number the member gave (KN 6, a voice key) is a hint on the case page, shown
as hers to confirm until staff set the category."""

from __future__ import annotations

from hotline.services import cases as case_service
from hotline.services.outbox import Outbox
from tests.console.conftest import HANG, NOW, person

HINT_VI = "Số người gửi chọn: 6 (cần xác nhận)"
HINT_EN = "Number the sender chose: 6 (to be confirmed)"


def _kn6(db):
    case = case_service.open_case(db, NOW, Outbox(db), person=person(db, HANG), channel="sms",
                                  summary="bhxh", category=6, member_chose=True)
    db.commit()
    return case


def _page(client, case) -> str:
    return client.get(f"/console/cases/{case.number}").get_data(as_text=True)


def test_the_members_number_is_shown_as_hers_to_confirm_in_both_languages(as_user, demo):
    case = _kn6(demo)
    admin = as_user("admin")
    assert HINT_VI in _page(admin, case)
    with admin.session_transaction() as web_session:
        web_session["lang"] = "en"
    assert HINT_EN in _page(admin, case)


def test_staff_setting_the_category_confirms_it(as_user, demo):
    case = _kn6(demo)
    admin = as_user("admin")
    response = admin.post(f"/console/cases/{case.number}/category", data={"category": "6"})
    assert response.status_code == 302
    demo.expire_all()
    assert case.category == 6 and case.category_hint is None
    page = _page(admin, case)
    assert HINT_VI not in page and 'id="category">6. ' in page


def test_a_case_staff_opened_shows_no_hint(as_user, demo):
    case = case_service.open_case(demo, NOW, Outbox(demo), person=person(demo, HANG),
                                  channel="sms", category=6)
    demo.commit()
    assert HINT_VI not in _page(as_user("admin"), case)
