"""``flask backup`` / ``flask restore``: a wiped line comes back whole, a changed backup does not.

Each test makes a database of its own (the session's shared one must keep its tables), fills
it through the services, backs it up with the real command, wipes database and audio, and
restores with the real command; on SQLite and on PostgreSQL (pg_dump / pg_restore).
"""

from __future__ import annotations

import io
import math
import shutil
import struct
import wave
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, select
from werkzeug.security import generate_password_hash

from hotline.config import Settings
from hotline.db import Base, make_sessionmaker, session_scope
from hotline.models import Call, Case, Person, Recording
from hotline.seed import seed_demo
from hotline.services import backup
from hotline.services import cases as case_service
from hotline.services.outbox import Outbox
from tests.conftest import PUBLIC_URL, create_database, drop_database

NOW = datetime(2026, 3, 10, 3, 0, tzinfo=UTC)
SID = "RE" + "ab" * 16
KEY = backup.generate_key()


def tone(seconds: float = 1.0, rate: int = 8000) -> bytes:
    """A real WAV file: a 440 Hz tone, as a phone recording would be (8 kHz mono)."""
    buf = io.BytesIO()
    with wave.open(buf, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"".join(
            struct.pack("<h", int(12000 * math.sin(2 * math.pi * 440 * i / rate)))
            for i in range(int(seconds * rate))))
    return buf.getvalue()


def line_settings(url: str, audio: Path, key: str = KEY) -> Settings:
    return Settings(database_url=url, public_url=PUBLIC_URL, secret_key="test-secret",
                    testing=True, audio_dir=str(audio), send_rate=0, backup_key=key)


def all_rows(url: str) -> dict[str, list[tuple]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = {}
            for table in Base.metadata.sorted_tables:
                rows[table.name] = [tuple(r) for r in conn.execute(
                    select(table).order_by(*table.primary_key.columns))]
            return rows
    finally:
        engine.dispose()


def timeline(url: str, number: int) -> list[tuple]:
    engine = create_engine(url)
    try:
        with make_sessionmaker(engine)() as session:
            case = session.scalar(select(Case).where(Case.number == number))
            return [(e.at, e.kind, e.note, e.data, e.actor_person_id) for e in case.events]
    finally:
        engine.dispose()


@pytest.fixture
def line(tmp_path, monkeypatch):
    """A line with the demo data, a case with a timeline, a member's recording and a staff
    prompt recording; its own database, dropped at the end."""
    from app import create_app

    monkeypatch.setattr("hotline.seed.generate_password_hash",
                        lambda pw: generate_password_hash(pw, method="pbkdf2:sha256:1000"))
    url = create_database(tmp_path / "db")
    audio = tmp_path / "audio"
    (audio / "simulator").mkdir(parents=True)
    (audio / "recorded").mkdir()
    sound = tone()
    (audio / "simulator" / f"{SID}.wav").write_bytes(sound)
    (audio / "recorded" / "welcome.wav").write_bytes(tone(0.5))
    settings = line_settings(url, audio)
    app = create_app(settings)
    rt = app.extensions["hotline"]
    with session_scope(rt.sessions) as session:
        seed_demo(session, NOW)
        member = session.scalar(select(Person).where(Person.role == "member"))
        box = Outbox.for_settings(session, settings)
        case = case_service.open_case(session, NOW, box, person=member, channel="voice",
                                      summary="Bị thu xe hàng ở chợ", category=1)
        helper = case.assignee
        case_service.accept(session, NOW + timedelta(minutes=5), box, case,
                            case_service.Actor(person=helper))
        case_service.add_note(session, NOW + timedelta(hours=1), case,
                              case_service.Actor(person=helper), "Đã gọi lại cho chị")
        call = Call(gateway="simulator", external_id="CA" + "cd" * 16, direction="in",
                    phone=member.phone, person_id=member.id, status="completed",
                    started_at=NOW, duration_s=40)
        session.add(call)
        session.flush()
        rec = Recording(gateway="simulator", external_id=SID, call_id=call.id, case_id=case.id,
                        media_url=f"{PUBLIC_URL}/console/simulator/recordings/{SID}",
                        duration_s=1, status="completed", created_at=NOW)
        session.add(rec)
        session.flush()
        number, rec_id = case.number, rec.id
    rt.close()
    yield app, settings, number, rec_id, sound
    drop_database(url)


def restored_line(tmp_path, settings: Settings) -> Settings:
    """Wipe the line: a new empty database, no audio directory."""
    drop_database(settings.database_url)
    shutil.rmtree(settings.audio_dir)
    return settings.replace(database_url=create_database(tmp_path / "db2", migrate=False))


def test_backup_wipe_restore_gives_back_the_same_line(line, tmp_path):
    from app import create_app

    app, settings, number, rec_id, sound = line
    rows_before = all_rows(settings.database_url)
    timeline_before = timeline(settings.database_url, number)
    assert len(timeline_before) >= 3 and rows_before["recordings"]

    out = tmp_path / "backups"
    result = app.test_cli_runner().invoke(args=["backup", "--out", str(out)])
    assert result.exit_code == 0, result.output
    made = backup.find_backup(out)
    # Nothing readable lies in the backup: not the member's words, nor a recording's bytes.
    for path in made.rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            assert b"thu xe" not in content and sound[100:200] not in content

    fresh = restored_line(tmp_path, settings)
    try:
        restored = create_app(fresh)
        result = restored.test_cli_runner().invoke(args=["restore", str(out)])
        assert result.exit_code == 0, result.output
        assert "every checksum and row count matched" in result.output

        assert all_rows(fresh.database_url) == rows_before
        assert timeline(fresh.database_url, number) == timeline_before
        assert (Path(fresh.audio_dir) / "recorded" / "welcome.wav").read_bytes() == tone(0.5)

        # The recording still plays: the console streams the very same bytes.
        restored.config["WTF_CSRF_ENABLED"] = False
        client = restored.test_client()
        login = client.post("/console/login",
                            data={"username": "dieuphoi", "password": "dieuphoi-demo"})
        assert login.status_code == 302
        played = client.get(f"/console/recordings/{rec_id}")
        assert played.status_code == 200
        assert played.data == sound
        played.close()
        with wave.open(io.BytesIO(played.data)) as heard:
            assert heard.getnframes() == 8000 and heard.getframerate() == 8000
        restored.extensions["hotline"].close()
    finally:
        drop_database(fresh.database_url)


def _empty(settings: Settings) -> bool:
    engine = create_engine(settings.database_url)
    try:
        with engine.connect() as conn:
            tables = inspect(conn).get_table_names()
    finally:
        engine.dispose()
    return not tables and not any(Path(settings.audio_dir).rglob("*.*"))


@pytest.mark.parametrize("damage", ["flip_byte", "swap_files", "drop_file", "wrong_key"])
def test_a_changed_backup_is_refused_and_nothing_is_restored(line, tmp_path, damage):
    from app import create_app

    app, settings, *_ = line
    out = tmp_path / "backups"
    assert app.test_cli_runner().invoke(args=["backup", "--out", str(out)]).exit_code == 0
    made = backup.find_backup(out)
    blobs = sorted((made / "files").iterdir())
    assert len(blobs) == 2
    expected = "does not decrypt"
    if damage == "flip_byte":
        data = bytearray((made / "database.enc").read_bytes())
        data[len(data) // 2] ^= 0x01
        (made / "database.enc").write_bytes(bytes(data))
    elif damage == "swap_files":
        # Each file is intact and decrypts: only the manifest's checksums can tell.
        first, second = blobs[0].read_bytes(), blobs[1].read_bytes()
        blobs[0].write_bytes(second)
        blobs[1].write_bytes(first)
        expected = "does not match the manifest's checksum"
    elif damage == "drop_file":
        blobs[1].unlink()
        expected = "is missing"

    fresh = restored_line(tmp_path, settings)
    if damage == "wrong_key":
        fresh = fresh.replace(backup_key=backup.generate_key())
    try:
        result = create_app(fresh).test_cli_runner().invoke(args=["restore", str(made)])
        assert result.exit_code != 0
        assert "refused" in result.output and expected in result.output
        assert "Nothing was restored" in result.output
        assert _empty(fresh)
    finally:
        drop_database(fresh.database_url)


def test_backup_without_a_key_refuses_and_says_why(line, tmp_path):
    from app import create_app

    _app, settings, *_ = line
    keyless = create_app(settings.replace(backup_key=""))
    result = keyless.test_cli_runner().invoke(args=["backup", "--out", str(tmp_path / "b")])
    assert result.exit_code != 0
    assert "HOTLINE_BACKUP_KEY is not set" in result.output and "flask backup-key" in result.output
    assert not (tmp_path / "b").exists() or not any((tmp_path / "b").iterdir())
    bad = create_app(settings.replace(backup_key="not-a-key"))
    result = bad.test_cli_runner().invoke(args=["backup", "--out", str(tmp_path / "b")])
    assert result.exit_code != 0 and "not a valid key" in result.output


def test_restore_refuses_a_database_that_is_not_empty(line, tmp_path):
    app, settings, *_ = line
    out = tmp_path / "backups"
    assert app.test_cli_runner().invoke(args=["backup", "--out", str(out)]).exit_code == 0
    rows = all_rows(settings.database_url)
    result = app.test_cli_runner().invoke(args=["restore", str(out)])
    assert result.exit_code != 0 and "only into an empty database" in result.output
    assert all_rows(settings.database_url) == rows


def test_old_backups_are_pruned_the_newest_kept(line, tmp_path):
    _app, settings, *_ = line
    out = tmp_path / "backups"
    settings = settings.replace(backup_keep_days=7)
    first = backup.backup(settings, out, NOW)
    second = backup.backup(settings, out, NOW + timedelta(days=3))
    third = backup.backup(settings, out, NOW + timedelta(days=9))
    assert third.pruned == [first.path]
    assert sorted(p.name for p in out.iterdir()) == [second.path.name, third.path.name]
    # However old, the last backup there is never pruned.
    alone = tmp_path / "alone"
    backup.backup(settings, alone, NOW)
    assert backup.prune(alone, NOW + timedelta(days=400), 7) == []
