"""The app as a whole: health, the root redirect, a database outage, the CLI."""

from __future__ import annotations

from sqlalchemy import func, select

from hotline.config import Settings
from hotline.models import Group, Person, StaffUser
from hotline.services.inbound import receive_text
from tests.factories import handle_sms


def test_healthz_reports_database_heartbeat_and_backlog(client, app):
    from scheduler.runner import Runner

    body = client.get("/healthz").get_json()
    assert body == {"status": "ok", "database": "ok", "scheduler_heartbeat_age_s": None,
                    "outbox_backlog": 0, "inbound_backlog": 0}
    Runner(app.extensions["hotline"], holder="t").hold()
    body = client.get("/healthz").get_json()
    assert 0 <= body["scheduler_heartbeat_age_s"] < 5
    receive_text(app.extensions["hotline"], "twilio", "SM-health", "+84912345678", "HD")
    assert client.get("/healthz").get_json()["inbound_backlog"] == 1
    handle_sms(app)
    assert client.get("/healthz").get_json()["inbound_backlog"] == 0


def test_healthz_shows_only_its_status_to_the_public(settings, sessions):
    from app import create_app

    app = create_app(settings.replace(health_token="health-secret"))
    client = app.test_client()
    outside = {"REMOTE_ADDR": "203.0.113.9"}
    assert client.get("/healthz", environ_base=outside).get_json() == {"status": "ok"}
    # Through the proxy, from loopback: the client is whoever X-Forwarded-For says.
    proxied = client.get("/healthz", headers={"X-Forwarded-For": "203.0.113.9"})
    assert proxied.get_json() == {"status": "ok"}
    wrong = client.get("/healthz", environ_base=outside, headers={"X-Health-Token": "guess"})
    assert wrong.get_json() == {"status": "ok"}
    right = client.get("/healthz", environ_base=outside,
                       headers={"X-Health-Token": "health-secret"}).get_json()
    assert right["database"] == "ok" and right["outbox_backlog"] == 0
    assert "inbound_backlog" in right and "scheduler_heartbeat_age_s" in right
    app.extensions["hotline"].close()


def test_every_response_says_nosniff(client):
    for response in (client.get("/healthz"), client.get("/"), client.get("/no/such/page"),
                     client.post("/sms/inbound", data={})):
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_root_leads_to_the_console(client):
    resp = client.get("/")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/console/")


def test_database_down_gives_503_to_webhooks_and_writes_nothing(tmp_path):
    from app import create_app

    missing = tmp_path / "no" / "such" / "dir" / "hotline.db"
    app = create_app(Settings(database_url=f"sqlite:///{missing}", testing=True))
    client = app.test_client()
    resp = client.post("/sms/inbound", data={"MessageSid": "SM1", "From": "+84912345678",
                                              "Body": "hi"})
    assert resp.status_code == 503 and resp.headers["Retry-After"]
    assert client.get("/healthz").status_code == 503
    assert not missing.exists()


def test_seed_demo_is_idempotent_and_prints_logins(runner, db):
    first = runner.invoke(args=["seed-demo"])
    second = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0 and second.exit_code == 0, first.output
    assert "admin" in first.output and "admin-demo" in first.output
    assert first.output == second.output
    assert db.scalar(select(func.count()).select_from(StaffUser)) == 5
    assert db.scalar(select(func.count()).select_from(Group)) == 3
    wards = {(p.ward_old, p.ward_current) for p in db.scalars(select(Person)) if p.ward_old}
    assert wards == {("Chương Dương", "Hồng Hà"), ("Phúc Tân", "Hồng Hà")}


def test_create_user(runner, db):
    args = ["create-user", "lan", "--role", "viewer", "--password", "lan-xem-2026"]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    user = db.scalar(select(StaffUser).where(StaffUser.username == "lan"))
    assert user.role == "viewer" and user.password_hash != "lan-xem-2026"


def test_create_user_follows_the_password_rule(runner, db):
    for weak in ("pw-12345", "\x00" * 20, "matkhau123"):
        result = runner.invoke(args=["create-user", "lan", "--password", weak])
        assert result.exit_code != 0
    assert db.scalar(select(func.count()).select_from(StaffUser)) == 0


def test_demo_logins_follow_the_password_rule():
    from hotline.seed import LOGINS
    from hotline.services import passwords

    for username, password, _role, _phone in LOGINS:
        passwords.check(password, username)


def test_create_user_has_the_consoles_checks(runner, db):
    """The CLI creates logins through the console's service: same rules, nothing saved."""
    for args, why in ((["create-user", "lan!", "--password", "mai-xem-2026"], "user name"),
                      (["create-user", "pe1", "--role", "peer_educator",
                        "--password", "mai-xem-2026"], "peer educator")):
        result = runner.invoke(args=args)
        assert result.exit_code != 0 and why in result.output, result.output
    assert runner.invoke(args=["create-user", "mai", "--password", "mai-xem-2026"]
                         ).exit_code == 0, "a valid login is created"
    again = runner.invoke(args=["create-user", "MAI", "--password", "mai-xem-2026"])
    assert again.exit_code != 0 and "taken" in again.output
    assert db.scalar(select(func.count()).select_from(StaffUser)
                     .where(StaffUser.username.in_(["mai", "lan!", "pe1"]))) == 1
