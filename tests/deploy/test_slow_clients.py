"""Slow clients cannot stall the line: gunicorn started with deploy/gunicorn.conf.py, two
clients trickling a webhook body a byte at a time, and a third, normal request answered in
under a second. The same attack against plain sync workers (the old deployment) shows the
test can fail: there the third request waits for a slow one to finish."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
CONF = ROOT / "deploy" / "gunicorn.conf.py"
PORTS = range(5210, 5250)  # this suite's share of 5200-5299
TRICKLE_S = 6.0  # how long each slow client keeps its request open


def _free_port() -> int:
    for port in PORTS:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    pytest.skip("no free port in 5210-5249")


@pytest.fixture
def serve(database_url, tmp_path, sessions):
    """``serve(*gunicorn_args)``: gunicorn on a free port of ours, answering; its URL."""
    started = []

    def start(*args: str) -> str:
        port = _free_port()
        env = dict(os.environ, HOTLINE_DATABASE_URL=database_url,
                   HOTLINE_AUDIO_DIR=str(tmp_path / "audio"))
        log = tmp_path / f"gunicorn-{port}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", *args, "-b", f"127.0.0.1:{port}",
                 "app:create_app()"],
                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        started.append(proc)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(url + "/healthz", timeout=1).status_code == 200:
                    return url
            except requests.RequestException:
                time.sleep(0.2)
        raise AssertionError("gunicorn did not start: " + log.read_text()[-2000:])

    yield start
    for proc in started:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def _trickle(url: str, seconds: float, opened: threading.Event) -> None:
    """POST /sms/inbound, sending its body one byte at a time for ``seconds``."""
    port = int(url.rsplit(":", 1)[1])
    body = b"From=%2B84912345678&Body=" + b"x" * 200
    with socket.create_connection(("127.0.0.1", port), timeout=seconds + 30) as sock:
        sock.sendall(b"POST /sms/inbound HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"Content-Type: application/x-www-form-urlencoded\r\n"
                     b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n")
        opened.set()
        end = time.monotonic() + seconds
        sent = 0
        while time.monotonic() < end and sent < len(body) - 1:
            sock.sendall(body[sent:sent + 1])
            sent += 1
            time.sleep(0.5)


def _third_request_time(url: str, workers_busy: int) -> float:
    """Start ``workers_busy`` slow clients, then time a normal request beside them."""
    threads, opened = [], []
    for _ in range(workers_busy):
        event = threading.Event()
        thread = threading.Thread(target=_trickle, args=(url, TRICKLE_S, event), daemon=True)
        thread.start()
        threads.append(thread)
        opened.append(event)
    for event in opened:
        assert event.wait(10)
    time.sleep(1.0)  # both are inside the server, mid-body
    started = time.monotonic()
    try:
        response = requests.get(url + "/healthz", timeout=TRICKLE_S + 20)
        assert response.status_code == 200
    finally:
        elapsed = time.monotonic() - started
        for thread in threads:
            thread.join(TRICKLE_S + 30)
    return elapsed


def test_the_shipped_gunicorn_config_answers_beside_two_slow_clients(serve):
    url = serve("-c", str(CONF), "-w", "2")
    assert _third_request_time(url, 2) < 1.0


def test_two_sync_workers_are_held_by_two_slow_clients(serve):
    """The deployment the README used to recommend, and the reason for the config above."""
    url = serve("-k", "sync", "-w", "2", "--timeout", "60")
    assert _third_request_time(url, 2) > 2.0
