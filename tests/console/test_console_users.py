"""User management for administrators: list, create, deactivate and reactivate, reset a
password, unlock; admins only, audited, and no password ever shown or logged."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from console import auth
from hotline.models import AuditLog, StaffUser
from hotline.services.errors import ServiceError
from tests.console.conftest import HANG, NOW, person, sign_in, staff

THU = "+84901000003"  # Lê Thị Thu, peer educator of PT01, without a login
SECRET = "Thu-mat-khau-2026"


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch):
    """PBKDF2 with few rounds instead of scrypt: a second saved per password."""
    from werkzeug.security import generate_password_hash

    monkeypatch.setattr("hotline.services.users.generate_password_hash",
                        lambda pw: generate_password_hash(pw, method="pbkdf2:sha256:1000"))


@pytest.fixture
def admin(as_user):
    return as_user("admin")


def _flash(client, response) -> str:
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return client.get(response.headers["Location"]).get_data(as_text=True)


def _audit(db, action: str) -> list[AuditLog]:
    return list(db.scalars(select(AuditLog).where(AuditLog.action == action)))


def _no_secret_in_audit(db, *secrets: str) -> None:
    for row in db.scalars(select(AuditLog)):
        for secret in secrets:
            assert secret not in str(row.detail), row.action


def test_only_admins_manage_users(as_user, demo):
    hoa = staff(demo, "hoa")
    admin = as_user("admin")
    page = admin.get("/console/users").get_data(as_text=True)
    assert 'href="/console/users"' in page  # in the menu
    for username in ("admin", "dieuphoi", "hoa", "mai", "xem"):
        assert f"<code>{username}</code>" in page
    assert "Nguyễn Thị Hoa" in page and "Tuyên truyền viên đồng đẳng" in page
    for username in ("dieuphoi", "hoa", "xem"):
        client = as_user(username)
        assert 'href="/console/users"' not in client.get("/console/reports").get_data(
            as_text=True)
        assert client.get("/console/users").status_code == 403
        assert client.post("/console/users", data={
            "username": "ke-gian", "role": "admin", "password": "x" * 12}).status_code == 403
        for action, data in (("active", {"active": "0"}), ("password", {"password": "y" * 12}),
                             ("unlock", {})):
            response = client.post(f"/console/users/{hoa.id}/{action}", data=data)
            assert response.status_code == 403, (username, action)
    assert demo.scalar(select(func.count(StaffUser.id))) == 5
    assert not demo.scalars(select(AuditLog).where(AuditLog.action.like("user_%"))).all()
    assert admin.post("/console/users/99999/unlock").status_code == 404


def test_create_a_peer_educator_login(admin, console, demo):
    thu = person(demo, THU)
    page = admin.get("/console/users").get_data(as_text=True)
    assert f'<option value="{thu.id}">Lê Thị Thu' in page
    assert f'<option value="{person(demo, HANG).id}">' not in page  # a member: no login
    response = admin.post("/console/users", data={
        "username": " Thu.PT01 ", "name": "", "role": "peer_educator", "person_id": str(thu.id),
        "password": SECRET})
    page = _flash(admin, response)
    assert "Đã tạo tài khoản thu.pt01" in page and "<code>thu.pt01</code>" in page
    assert SECRET not in page and SECRET not in response.get_data(as_text=True)
    user = staff(demo, "thu.pt01")
    assert (user.role, user.person_id, user.name, user.active) == (
        "peer_educator", thu.id, "Lê Thị Thu", True)
    assert user.password_hash != SECRET and SECRET not in user.password_hash
    [entry] = _audit(demo, "user_add")
    assert entry.actor == "admin" and entry.object_id == str(user.id)
    assert entry.detail == {"username": "thu.pt01", "role": "peer_educator", "person": thu.id}
    _no_secret_in_audit(demo, SECRET)
    # She signs in with it (any case of her name) and lands on her cases.
    client = sign_in(console.test_client(), "THU.pt01", SECRET)
    assert client.get("/console/").headers["Location"].endswith("/console/cases")
    assert client.get("/console/cases").status_code == 200
    # A coordinator login may stand for nobody; an admin login never stands for anyone.
    admin.post("/console/users", data={"username": "dieuphoi2", "role": "coordinator",
                                       "password": "dieuphoi-2026"})
    admin.post("/console/users", data={"username": "quantri2", "role": "admin",
                                       "person_id": str(thu.id), "password": "quantri-2026"})
    assert staff(demo, "dieuphoi2").person_id is None
    assert staff(demo, "quantri2").person_id is None and staff(demo, "quantri2").role == "admin"


@pytest.mark.parametrize(("form", "message"), [
    ({"username": "HOA", "role": "viewer"}, "Tên đăng nhập này đã có người dùng."),
    ({"username": "ab", "role": "viewer"}, "Tên đăng nhập gồm 3 đến 40"),
    ({"username": "co dau", "role": "viewer"}, "Tên đăng nhập gồm 3 đến 40"),
    ({"username": "nguoimoi", "role": "boss"}, "Xin chọn vai trò."),
    ({"username": "nguoimoi", "role": "viewer", "password": "ngan"},
     "Mật khẩu cần ít nhất 10 ký tự."),
    ({"username": "nguoimoi123", "role": "viewer", "password": "NguoiMoi123"},
     "Mật khẩu không được trùng tên đăng nhập."),
    ({"username": "nguoimoi", "role": "viewer", "password": "\x00" * 20},
     "Mật khẩu không được chứa ký tự điều khiển"),
    ({"username": "nguoimoi", "role": "viewer", "password": "mat-khau\u200bdai-du"},
     "Mật khẩu không được chứa ký tự điều khiển"),
    ({"username": "nguoimoi", "role": "viewer", "password": "mat-khau\ndai-du"},
     "Mật khẩu không được chứa ký tự điều khiển"),
    ({"username": "nguoimoi", "role": "viewer", "password": "matkhau123"},
     "Mật khẩu này quá phổ biến."),
    ({"username": "nguoimoi", "role": "viewer", "password": "Mật Khẩu 123"},
     "Mật khẩu này quá phổ biến."),
    ({"username": "nguoimoi", "role": "viewer", "password": "anhyeuem123"},
     "Mật khẩu này quá phổ biến."),
    ({"username": "nguoimoi", "role": "viewer", "password": "Password123"},
     "Mật khẩu này quá phổ biến."),
    ({"username": "nguoimoi", "role": "viewer", "password": "1234567890"},
     "Mật khẩu này quá phổ biến."),
    ({"username": "nguoimoi", "role": "viewer", "password": "ababababab"},
     "Mật khẩu này quá phổ biến."),
    ({"username": "nguoimoi", "role": "viewer", "password": "nguoimoi26"},
     "Mật khẩu không được trùng tên đăng nhập."),
    ({"username": "nguoimoi", "role": "peer_educator"},
     "phải gắn với chính người đó"),
    ({"username": "nguoimoi", "role": "peer_educator", "person": "+84901000001"},
     "Người này đã có tài khoản."),
    ({"username": "nguoimoi", "role": "peer_educator", "person": HANG},
     "Người này không thể có loại tài khoản này."),
    ({"username": "nguoimoi", "role": "coordinator", "person": THU},
     "Người này không thể có loại tài khoản này."),
    ({"username": "nguoimoi", "role": "peer_educator", "person_id": "abc"},
     "Người này không thể có loại tài khoản này."),
    ({"username": "nguoimoi", "role": "peer_educator", "person_id": str(2**31)},
     "Người này không thể có loại tài khoản này."),
    ({"username": "nguoi\x00moi", "role": "viewer"}, "Tên đăng nhập: hãy bỏ các ký tự điều khiển."),
    ({"username": "nguoimoi", "role": "chief"}, "Xin chọn vai trò."),
])
def test_a_login_that_cannot_be_is_refused(admin, demo, form, message):
    data = {"password": "mat-khau-dai-du", **form}
    if "person" in data:
        data["person_id"] = str(person(demo, data.pop("person")).id)
    page = _flash(admin, admin.post("/console/users", data=data))
    assert message in page
    assert "mat-khau-dai-du" not in page
    assert demo.scalar(select(func.count(StaffUser.id))) == 5
    assert not _audit(demo, "user_add")


def test_deactivate_and_reactivate(admin, as_user, console, demo):
    hoa_client = as_user("hoa")
    hoa = staff(demo, "hoa")
    page = _flash(admin, admin.post(f"/console/users/{hoa.id}/active", data={"active": "0"}))
    assert "Đã ngừng hoạt động" in page
    demo.expire_all()
    assert not demo.get(StaffUser, hoa.id).active
    # Her open session ends at once, and she cannot sign in again.
    assert "/console/login" in hoa_client.get("/console/cases").headers["Location"]
    response = console.test_client().post("/console/login", data={"username": "hoa",
                                                                   "password": "hoa-demo-2026"})
    assert response.status_code == 401
    # Nobody deactivates herself or the last administrator.
    me = staff(demo, "admin")
    page = _flash(admin, admin.post(f"/console/users/{me.id}/active", data={"active": "0"}))
    assert "Không thể tự ngừng tài khoản" in page
    demo.expire_all()
    assert demo.get(StaffUser, me.id).active
    # Back again.
    admin.post(f"/console/users/{hoa.id}/active", data={"active": "1"})
    demo.expire_all()
    assert demo.get(StaffUser, hoa.id).active
    sign_in(console.test_client(), "hoa")
    assert [a.action for a in demo.scalars(select(AuditLog).where(
        AuditLog.object_type == "staff_user", AuditLog.action.like("user_%"))
        .order_by(AuditLog.id))] == ["user_deactivate", "user_reactivate"]


def test_the_last_active_admin_stays(admin, console, demo):
    admin.post("/console/users", data={"username": "quantri2", "role": "admin",
                                       "password": "quantri-2026"})
    second = sign_in(console.test_client(), "quantri2", "quantri-2026")
    first = staff(demo, "admin")
    _flash(second, second.post(f"/console/users/{first.id}/active", data={"active": "0"}))
    demo.expire_all()
    assert not demo.get(StaffUser, first.id).active
    # quantri2 is the last one now: another admin cannot exist to deactivate her, and she
    # cannot deactivate herself.
    other = staff(demo, "quantri2")
    page = _flash(second, second.post(f"/console/users/{other.id}/active", data={"active": "0"}))
    assert "Không thể tự ngừng tài khoản" in page
    from hotline.services import users
    from tests.console.conftest import staff as get

    demo.expire_all()
    with pytest.raises(ServiceError, match="last administrator"):
        users.set_user_active(demo, NOW, get(demo, "admin"), get(demo, "quantri2"), False)
    demo.rollback()


def test_reset_password_ends_old_sessions(admin, as_user, console, demo):
    mai_client = as_user("mai")
    assert mai_client.get("/console/cases").status_code == 200
    mai = staff(demo, "mai")
    new = "Mai-moi-2026!"
    response = admin.post(f"/console/users/{mai.id}/password", data={"password": new})
    page = _flash(admin, response)
    assert "Đã đổi mật khẩu" in page and new not in page
    # The session opened with the old password is over; the old password is refused.
    assert "/console/login" in mai_client.get("/console/cases").headers["Location"]
    assert console.test_client().post("/console/login", data={
        "username": "mai", "password": "mai-demo-2026"}).status_code == 401
    sign_in(console.test_client(), "mai", new)
    [entry] = _audit(demo, "user_password_reset")
    assert entry.detail == {"username": "mai"}
    _no_secret_in_audit(demo, new, "mai-demo-2026")
    # Too short: refused, the password stays.
    page = _flash(admin, admin.post(f"/console/users/{mai.id}/password",
                                    data={"password": "short"}))
    assert "Mật khẩu cần ít nhất 10 ký tự." in page
    sign_in(console.test_client(), "mai", new)


def test_an_admin_resetting_her_own_password_stays_signed_in(admin, as_user, console, demo):
    other_tab = as_user("admin")
    me = staff(demo, "admin")
    admin.post(f"/console/users/{me.id}/password", data={"password": "admin-moi-2026"})
    assert admin.get("/console/users").status_code == 200
    assert other_tab.get("/console/users").status_code == 302  # opened with the old one
    sign_in(console.test_client(), "admin", "admin-moi-2026")


def test_a_session_from_before_this_version_is_asked_to_sign_in_again(console, demo):
    client = sign_in(console.test_client(), "admin")
    with client.session_transaction() as session:
        session["_user_id"] = str(staff(demo, "admin").id)  # no password stamp
    assert client.get("/console/dashboard").status_code == 302


def test_unlock_a_locked_login(admin, console, demo):
    client = console.test_client()
    for _ in range(auth.FREE_ATTEMPTS):
        client.post("/console/login", data={"username": "xem", "password": "guess"})
    xem = staff(demo, "xem")
    demo.refresh(xem)
    assert xem.locked_until > NOW
    page = admin.get("/console/users").get_data(as_text=True)
    assert "Tạm khóa đến" in page and f"{auth.FREE_ATTEMPTS} lần đăng nhập sai" in page
    admin.post(f"/console/users/{xem.id}/unlock")
    demo.expire_all()
    xem = demo.get(StaffUser, xem.id)
    assert (xem.failed_logins, xem.locked_until) == (0, None)
    sign_in(console.test_client(), "xem")
    [entry] = _audit(demo, "user_unlock")
    assert entry.detail["failures"] == auth.FREE_ATTEMPTS
    assert "Tạm khóa đến" not in admin.get("/console/users").get_data(as_text=True)


def test_a_reset_also_unlocks(admin, console, demo):
    xem = staff(demo, "xem")
    xem.failed_logins, xem.locked_until = 9, NOW + timedelta(minutes=10)
    demo.commit()
    admin.post(f"/console/users/{xem.id}/password", data={"password": "xem-moi-2026"})
    sign_in(console.test_client(), "xem", "xem-moi-2026")
