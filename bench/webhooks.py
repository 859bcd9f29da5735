"""Webhook benchmark: signed Twilio webhooks to the hotline under gunicorn, beside a bare app.

    python -m bench.webhooks [--backend sqlite|postgresql|both] [--only sms|ivr]
                             [--seconds 20] [--closed-seconds 10] [--connections 8]
                             [--sms-rate 100] [--ivr-rate 50]
                             [--worker-class sync|gthread] [--threads 1] [--quick]

For each backend a throwaway migrated database (``bench.common``) is served by **gunicorn,
2 workers** (``--worker-class``, default sync), signature checks on (``TWILIO_AUTH_TOKEN`` set,
``HOTLINE_PUBLIC_URL`` the URL the requests are signed for). Beside it, the **bare Flask +
twilio app** (``bench/bare_app.py``: checks the signature, answers fixed TwiML) runs under the
same gunicorn settings and gets the same requests from the same load generator.

Traffic (all to 127.0.0.1, every request signed with X-Twilio-Signature, one TCP connection
per request as a proxy in front of sync workers does):

- **SMS**: ``POST /sms/inbound`` with Twilio's full form, from 2,000 distinct numbers (500 of
  them registered members), bodies drawn from a fixed-seed mix: 15 % KN/CG complaints that
  open cases (accented or not, with or without a category), 18 % information commands (HD,
  BHYT, TAMTRU, ...), 8 % TT case status, 8 % DK registrations, 8 % answers (DONGY, CO,
  KHONG, 1, 2), 5 % GOI/HOP, 2 % HUY/STOP, 36 % free text.
- **IVR**: scripted callers (25 at a time, interleaved) walking the menu: the incoming call,
  consent, how she is told, information, back, case-number entry, silence, emergency numbers.
  The URL of each step is the one the app's TwiML gives (learnt by walking the menu once
  through Flask's test client before the run, and checked against every answer afterwards).
- **Notice calls** (``/ivr/notice``, voice notices we place to members told by voice): each
  seeded notice call answered (``AnsweredBy=human``: the notice is read), ``1`` (the repeat),
  then ``0`` (a key that acts: no more calls for her), 25 calls at a time like the menu,
  timed per step in an open loop of their own at ``--ivr-rate`` after the menu's.

Measured, per backend:

1. **Open loop** at ``--sms-rate`` / ``--ivr-rate`` requests/s for ``--seconds``: requests are
   sent on a fixed schedule whatever the server does, and latency runs from the *scheduled*
   send time to the last byte of the answer (no coordinated omission). p50/p90/p99/max and the
   rate achieved. Goals: SMS p99 < 50 ms at 100/s (issue 3); IVR step p99 < 20 ms at 50/s on
   SQLite (issue 4), < 50 ms elsewhere (ARCHITECTURE.md); each notice-call step < 50 ms
   (issue 14).
2. **Closed loop**: ``--connections`` clients send back to back for ``--closed-seconds``; the
   hotline's requests/s as a ratio of the bare app's, measured right after it. Goal: ≥ 0.5
   (issue 8). IVR: menu steps alone (the issue's "voice-menu step"; their calls are started
   beforehand, untimed), then whole calls with their incoming call, as a second figure.
3. **Peak RSS** (VmHWM) of each hotline gunicorn worker at the end. Goal: < 150 MB.

The SMS webhook only stores the message; the scheduler's ``handle_inbound`` job acts on it.
So for SMS the real scheduler process (``flask scheduler run``, replies to the simulator
gateway) runs beside gunicorn during the open loop and a first closed loop, as in
production; how long messages wait to be acted on is sampled (mean wait by Little's law:
mean number unhandled ÷ arrival rate). The ratio to the bare app comes from a second closed
loop with the scheduler stopped (the bare app has no second process either), and the
backlog it leaves is then timed through the scheduler: the job's own rate.

Checked: every request answered 200; every SMS stored exactly once and, by the end, acted
on; every IVR answer leads to the URL the walk expects. Exit status 1 when a check failed,
never because a goal was missed.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import os
import queue
import random
import re
import signal
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator

from bench.common import (
    PUBLIC_URL,
    BackendUnavailable,
    Database,
    Figure,
    add_backend_args,
    at_least,
    below,
    databases,
    latency_summary,
    load_line,
    note,
    peak_rss_mb,
    print_header,
    print_table,
    rate,
    report_problems,
    scheduler_process,
    stop_group,
    wait_for,
)

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
TOKEN = "bench-webhook-token"
ACCOUNT = "AC" + "c" * 32
OUR_NUMBER = "+84240000000"
HOTLINE_APP = "app:create_app()"
BARE_APP = "bench.bare_app:app"
WORKERS = 2
SMS_P99_GOAL = below(50, "ms")
IVR_P99_GOAL = {"sqlite": below(20, "ms")}  # issue 4; elsewhere the 50 ms budget
RATIO_GOAL = at_least(0.5, "×")
RSS_GOAL = below(150, "MB")
# What each scripted caller does after the incoming call, one request each (None: silence):
# consent, then how she is told (asked once after it: 2, SMS), information and back, her case
# (3 "more", 1, the number), back, silence, key 9. The consent answer, the channel, the case
# number and key 9 act; the other eight only move.
IVR_SCRIPT = ("1", "2", "1", "2", "0", "0", "3", "1", "1001", "*", None, "9")
CONCURRENT_CALLS = 25
# A voice notice call we placed, answered (``/ivr/notice``, issue 14): Twilio's answer webhook
# with AnsweredBy (None here: step 0), then "1" (hear it again: the repeat), then a key that
# acts, "0" (no more calls for her: her channel back to SMS, in the consent log). Each call is
# its own seeded notice to its own member told by voice.
NOTICE_SCRIPT = (None, "1", "0")
NOTICE_KINDS = ("notice_answer", "notice_repeat", "notice_key")
NOTICE_CALLS = 3000  # seeded; a longer run wraps round (a callback answered again)
NOTICE_PHONE = "+8496{:07d}"
NOTICE_SIDS = 2 * 10**9  # call numbers of the notice calls: apart from the menu's
NOTICE_P99_GOAL = below(50, "ms")  # ARCHITECTURE.md's webhook budget, on every backend


# Requests ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Req:
    """One signed webhook request, ready to send. ``kind``: sms, incoming or step."""

    kind: str
    path: str
    body: bytes
    headers: dict[str, str]
    call: int = -1  # IVR: which call and which request of it
    index: int = -1


def signed(kind: str, path: str, form: dict[str, str], token: str = TOKEN, **extra) -> Req:
    signature = RequestValidator(token).compute_signature(PUBLIC_URL + path, form)
    return Req(kind, path, urlencode(form).encode(), {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": signature,
    }, **extra)


MARKETS = ("chợ Long Biên", "chợ Đồng Xuân", "cho Hom", "phố Hàng Bè", "chợ Châu Long",
           "đường Trần Quang Khải", "bến xe Gia Lâm", "chân cầu Chương Dương")
NAMES = ("Nguyễn Thị Lan", "Tran Thi Mai", "Lê Văn Hùng", "Phạm Thị Thu", "Hoang Thi Nga",
         "Đỗ Thị Hằng", "Bui Van Nam", "Vũ Thị Yến")
INFO = ("HD", "hd", "GIUP", "help", "#HD", "BHYT", "bhyt", "BHXH", "bảo hiểm", "TAMTRU",
        "tam tru", "PHAPLY", "phap ly", "Hd.")
FREE = (
    "Chị ơi cho em hỏi làm thẻ bảo hiểm y tế ở đâu ạ",
    "alo",
    "Em bị chủ nhà đòi tăng tiền trọ mà không báo trước, em phải làm sao",
    "cho e hoi tam tru o phuong minh can giay to gi",
    "Hôm nay có họp nhóm không chị",
    "Cam on chi nhieu",
    "Em muốn gặp chị Hoa",
    "bi thu xe day o {m} sang nay, lam the nao de lay lai",
    "Ok",
    "Xin chao, toi la nguoi ban hang rong, toi muon tham gia nhom",
    "Con em ốm phải nằm viện, em không có bảo hiểm",
    "{m} hôm nay có kiểm tra không mọi người",
)
COMPLAINTS = (
    "KN 1 Bị thu hàng ở {m} sáng nay",
    "kn bi thu gánh hàng o {m}",
    "KN 2 Chủ nợ tiền công {d} ngày chưa trả",
    "kn2 chu no luong {d} ngay",
    "KN 4 Bị phạt {d}00 nghìn không có biên lai ở {m}",
    "KN bị đuổi khỏi chỗ bán ở {m}",
    "CG can giup lam the bao hiem y te cho con",
    "CG 7 Em cần người giúp làm tạm trú",
    "kn 3 bi danh o {m}",
    "Kn chủ trọ giữ giấy tờ của em",
)


def sms_requests(n: int, *, seed: int, numbers: int = 2000, first: int = 0) -> list[Req]:
    """``n`` signed inbound SMS, each with its own MessageSid, from ``numbers`` numbers."""
    rnd = random.Random(seed)
    out = []
    for i in range(first, first + n):
        phone = f"+8498{rnd.randrange(numbers):07d}"
        roll = rnd.random()
        m, d = rnd.choice(MARKETS), rnd.randint(2, 30)
        if roll < 0.18:
            body = rnd.choice(INFO)
        elif roll < 0.33:
            body = rnd.choice(COMPLAINTS).format(m=m, d=d)
        elif roll < 0.41:
            body = f"TT {rnd.randint(1000, 1400)}" if rnd.random() < 0.5 else \
                f"tt{rnd.randint(1000, 1400)}"
        elif roll < 0.49:
            body = f"DK {rnd.choice(NAMES)}" + (" CD01" if rnd.random() < 0.3 else "")
        elif roll < 0.57:
            body = rnd.choice(("DONGY", "đồng ý", "dong y", "CO", "có", "KHONG", "1", "2"))
        elif roll < 0.62:
            body = rnd.choice(("GOI", "goi lai cho em", "HOP", "hop"))
        elif roll < 0.64:
            body = rnd.choice(("HUY", "STOP", "tc"))
        else:
            body = rnd.choice(FREE).format(m=m)
        sid = f"SM{i:08d}{rnd.getrandbits(96):024x}"
        form = {
            "ToCountry": "VN", "ToState": "", "SmsMessageSid": sid, "NumMedia": "0",
            "ToCity": "", "FromZip": "", "SmsSid": sid, "FromState": "", "SmsStatus": "received",
            "FromCity": "", "Body": body, "FromCountry": "VN", "To": OUR_NUMBER, "ToZip": "",
            "NumSegments": "1", "MessageSid": sid, "AccountSid": ACCOUNT, "From": phone,
            "ApiVersion": "2010-04-01",
        }
        out.append(signed("sms", "/sms/inbound", form, index=i))
    return out


@dataclass(frozen=True)
class Walk:
    """The requests of one scripted call: (path, digits) for each; the first is the call."""

    steps: tuple[tuple[str, str | None], ...]


def next_path(body: bytes, digits: str | None) -> str | None:
    """The URL Twilio would request next: the Gather's action (digits) or the Redirect after
    it (silence); None when the TwiML ends the call."""
    verbs = list(ET.fromstring(body))
    if not verbs:
        return None
    gathers = [v for v in verbs if v.tag == "Gather"]
    redirects = [v for v in verbs if v.tag == "Redirect"]
    target = (gathers[-1].get("action") if gathers else None) if digits is not None else (
        redirects[-1].text if redirects else None)
    if not target or not target.startswith(PUBLIC_URL):
        return None
    return target[len(PUBLIC_URL):]


def _voice_form(call: int, phone: str, digits: str | None, status: str) -> dict[str, str]:
    sid = f"CA{call:032x}"
    form = {
        "AccountSid": ACCOUNT, "ApiVersion": "2010-04-01", "CallSid": sid, "CallStatus": status,
        "Called": OUR_NUMBER, "CalledCountry": "VN", "Caller": phone, "CallerCountry": "VN",
        "Direction": "inbound", "From": phone, "FromCountry": "VN", "To": OUR_NUMBER,
        "ToCountry": "VN",
    }
    if digits is not None:
        form.update(Digits=digits, FinishedOnKey="")
    return form


def learn_walk(db: Database, script: Sequence[str | None] = IVR_SCRIPT) -> Walk:
    """Walk the menu twice through Flask's test client (two first-time callers) and return the
    URLs Twilio would request; the two walks must agree (URLs hold no per-call state)."""
    from app import create_app

    app = create_app(db.settings(twilio_auth_token=TOKEN))
    try:
        client = app.test_client()
        walks = []
        for call in (10**9, 10**9 + 1):
            phone = f"+8497{call % 10**7:07d}"
            path, digits, steps = "/ivr/incoming", None, []
            for k in range(len(script) + 1):
                form = _voice_form(call, phone, digits, "ringing" if k == 0 else "in-progress")
                req = signed("walk", path, form)
                resp = client.post(path, data=req.body, headers=req.headers)
                if resp.status_code != 200:
                    raise RuntimeError(f"walk: {path} answered {resp.status_code}")
                steps.append((path, digits))
                if k == len(script):
                    break
                digits = script[k]
                nxt = next_path(resp.data, digits)
                if nxt is None:
                    raise RuntimeError(f"walk: the call ended early after {path}")
                path = nxt
            walks.append(tuple(steps))
    finally:
        app.extensions["hotline"].close()
    if walks[0] != walks[1]:
        raise RuntimeError("two walks of the same script requested different URLs")
    return Walk(walks[0])


def ivr_requests(walk: Walk, n: int, *, first_call: int = 0,
                 concurrent: int = CONCURRENT_CALLS) -> list[Req]:
    """At least ``n`` signed IVR requests: calls of ``walk`` interleaved ``concurrent`` at a
    time, so a call's next request comes ``concurrent`` requests after its previous one."""
    out = []
    for call, k in _interleaved(len(walk.steps), n, first_call, concurrent):
        path, digits = walk.steps[k]
        # The number as learn_walk makes it: a valid one for any call id (the rounds' ids,
        # from 3 * 10**8 on, once made numbers no phone has).
        form = _voice_form(call, f"+8497{call % 10**7:07d}", digits,
                           "ringing" if k == 0 else "in-progress")
        out.append(signed("incoming" if k == 0 else "step", path, form, call=call, index=k))
    return out


def _interleaved(per_call: int, n: int, first_call: int, concurrent: int):
    """(call, step) in sending order for at least ``n`` requests: blocks of ``concurrent``
    calls, each block's first steps, then their second steps, ..."""
    for block in range(-(-n // (per_call * concurrent))):
        calls = [first_call + block * concurrent + c for c in range(concurrent)]
        for k in range(per_call):
            for call in calls:
                yield call, k


def seed_notices(db: Database, n: int = NOTICE_CALLS) -> list[int]:
    """``n`` members told by voice, each with a notice call being placed (case accepted):
    the rows the notice webhook answers for. Returns the callbacks' ids."""
    from sqlalchemy import insert, select

    from hotline import clock
    from hotline.db import make_engine, make_sessionmaker, session_scope
    from hotline.models import CallbackRequest, CallbackStatus, NotifyChannel, Person

    engine = make_engine(db.url)
    try:
        now = clock.utcnow()
        phones = [NOTICE_PHONE.format(i) for i in range(n)]
        with session_scope(make_sessionmaker(engine)) as session:
            session.execute(insert(Person), [
                {"phone": phone, "name": f"Hoi vien nghe {i}", "created_at": now,
                 "registered_at": now, "notify_channel": NotifyChannel.VOICE}
                for i, phone in enumerate(phones)])
            ids = dict(session.execute(select(Person.phone, Person.id)
                                       .where(Person.phone.in_(phones))).all())
            session.execute(insert(CallbackRequest), [
                {"person_id": ids[phone], "phone": phone, "reason": "notice", "urgent": False,
                 "status": CallbackStatus.CALLING, "attempts": 1, "due_at": now,
                 "note": "notice case_accepted", "notice": "case_accepted",
                 "notice_ref": f"case:{i}:bench", "notice_args": {"number": str(1001 + i)},
                 "created_at": now}
                for i, phone in enumerate(phones)])
            return list(session.scalars(
                select(CallbackRequest.id).where(CallbackRequest.phone.in_(phones))
                .order_by(CallbackRequest.id)))
    finally:
        engine.dispose()


@dataclass(frozen=True)
class NoticeWalk:
    """The requests of one notice call: (path, digits) each, ``{callback}`` standing for the
    callback's id; and the phone and callback of each seeded call."""

    steps: tuple[tuple[str, str | None], ...]
    callbacks: tuple[tuple[int, str], ...]

    def path(self, k: int, callback: int) -> str:
        return self.steps[k][0].replace("{callback}", str(callback))


def _notice_form(call: int, phone: str, digits: str | None, first: bool) -> dict[str, str]:
    form = {
        "AccountSid": ACCOUNT, "ApiVersion": "2010-04-01", "CallSid": f"CA{call:032x}",
        "CallStatus": "in-progress", "Called": phone, "CalledCountry": "VN",
        "Caller": OUR_NUMBER, "CallerCountry": "VN", "Direction": "outbound-api",
        "From": OUR_NUMBER, "FromCountry": "VN", "To": phone, "ToCountry": "VN",
    }
    if first:
        form["AnsweredBy"] = "human"  # MachineDetection=DetectMessageEnd: who picked up
    if digits is not None:
        form.update(Digits=digits, FinishedOnKey="")
    return form


def learn_notice_walk(db: Database, callbacks: list[int],
                      script: Sequence[str | None] = NOTICE_SCRIPT) -> NoticeWalk:
    """Answer the first seeded notice through Flask's test client, following its TwiML (the
    Gather's action after each key), and keep the others for the run; the call must end
    with the key that acts."""
    from sqlalchemy import select

    from app import create_app
    from hotline.db import make_engine
    from hotline.models import CallbackRequest

    engine = make_engine(db.url)
    try:
        with engine.connect() as conn:
            phones = dict(conn.execute(select(CallbackRequest.id, CallbackRequest.phone)
                                       .where(CallbackRequest.id.in_(callbacks))).all())
    finally:
        engine.dispose()
    first, rest = callbacks[0], callbacks[1:]
    app = create_app(db.settings(twilio_auth_token=TOKEN))
    try:
        client = app.test_client()
        path, steps = f"/ivr/notice?callback={first}", []
        for k, digits in enumerate(script):
            form = _notice_form(NOTICE_SIDS - 1, phones[first], digits, k == 0)
            req = signed("walk", path, form)
            resp = client.post(path, data=req.body, headers=req.headers)
            if resp.status_code != 200:
                raise RuntimeError(f"notice walk: {path} answered {resp.status_code}")
            steps.append((path.replace(f"callback={first}", "callback={callback}"), digits))
            if k + 1 == len(script):
                if ET.fromstring(resp.data)[-1].tag != "Hangup":
                    raise RuntimeError("notice walk: the acting key did not end the call")
                break
            path = next_path(resp.data, script[k + 1])
            if path is None or f"callback={first}" not in path:
                raise RuntimeError(f"notice walk: the call ended early after step {k}")
    finally:
        app.extensions["hotline"].close()
    return NoticeWalk(tuple(steps), tuple((c, phones[c]) for c in rest))


def notice_requests(walk: NoticeWalk, n: int, *, first_call: int = 0,
                    concurrent: int = CONCURRENT_CALLS) -> list[Req]:
    """At least ``n`` signed notice-call requests, ``concurrent`` calls interleaved as in
    ``ivr_requests``; call ``i`` answers the seeded callback ``i`` (round again past the
    last)."""
    out = []
    for call, k in _interleaved(len(walk.steps), n, first_call, concurrent):
        callback, phone = walk.callbacks[call % len(walk.callbacks)]
        out.append(signed(NOTICE_KINDS[k], walk.path(k, callback),
                          _notice_form(NOTICE_SIDS + call, phone, walk.steps[k][1], k == 0),
                          call=call, index=k))
    return out


def check_notice_walk(result: LoadResult, walk: NoticeWalk, problems: list[str]) -> None:
    """Every notice answer must lead to the next step of its call, and the last must end it."""
    wrong = 0
    for sample in result.ok():
        k, req = sample.req.index, sample.req
        if k + 1 < len(walk.steps):
            callback = walk.callbacks[req.call % len(walk.callbacks)][0]
            ok = next_path(sample.body, walk.steps[k + 1][1]) == walk.path(k + 1, callback)
        else:
            ok = ET.fromstring(sample.body)[-1].tag == "Hangup"
        wrong += not ok
    if wrong:
        problems.append(f"{wrong} notice-call answers did not lead to the expected next step")


# Load generators ---------------------------------------------------------------------------


@dataclass
class Sample:
    kind: str
    due: float  # scheduled send time (open loop) or send time (closed loop)
    done: float
    status: int
    body: bytes = b""
    req: Req | None = None

    @property
    def latency(self) -> float:
        return self.done - self.due


@dataclass
class LoadResult:
    started: float
    ended: float
    samples: list[Sample]
    exhausted: bool = False  # the closed loop ran out of prepared requests

    def ok(self, kind: str | None = None) -> list[Sample]:
        return [s for s in self.samples if s.status == 200 and kind in (None, s.kind)]

    @property
    def errors(self) -> int:
        return sum(1 for s in self.samples if s.status != 200)

    @property
    def achieved(self) -> float:
        return rate(len(self.ok()), self.ended - self.started)

    def summary(self, kind: str | None = None) -> dict[str, float]:
        lat = [s.latency for s in self.ok(kind)]
        return latency_summary(lat) if lat else {k: float("nan") for k in
                                                 ("p50_ms", "p90_ms", "p99_ms", "max_ms")}


def send(port: int, req: Req, timeout: float = 30.0) -> tuple[int, bytes]:
    """One POST on a fresh connection; status 0 when the connection failed."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("POST", req.path, body=req.body, headers=req.headers)
        resp = conn.getresponse()
        return resp.status, resp.read()
    except OSError:
        return 0, b""
    finally:
        conn.close()


def open_loop(port: int, reqs: Sequence[Req], per_second: float, *, senders: int = 32,
              keep_bodies: bool = False) -> LoadResult:
    """Send ``reqs`` at ``per_second`` on a fixed schedule (request i at start + i/rate),
    whatever the answers take; each latency runs from the scheduled time."""
    work: queue.Queue = queue.Queue()
    samples: list[Sample | None] = [None] * len(reqs)

    def sender() -> None:
        while (item := work.get()) is not None:
            i, due = item
            status, body = send(port, reqs[i])
            samples[i] = Sample(reqs[i].kind, due, time.perf_counter(), status,
                                body if keep_bodies else b"", reqs[i])

    threads = [threading.Thread(target=sender, daemon=True) for _ in range(senders)]
    for t in threads:
        t.start()
    start = time.perf_counter() + 0.05
    try:
        for i in range(len(reqs)):
            due = start + i / per_second
            wait = due - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            work.put((i, due))
    finally:
        for _ in threads:
            work.put(None)
        for t in threads:
            t.join()
    done = [s for s in samples if s is not None]
    return LoadResult(start, max(s.done for s in done), done)


def closed_loop(port: int, reqs: Sequence[Req], *, connections: int = 8,
                seconds: float = 10.0) -> LoadResult:
    """``connections`` clients, each sending the next prepared request as soon as its last
    one is answered, for ``seconds``."""
    counter = itertools.count()
    samples: list[Sample] = []
    lock = threading.Lock()
    exhausted = threading.Event()
    start = time.perf_counter()
    deadline = start + seconds

    def client() -> None:
        mine = []
        while time.perf_counter() < deadline:
            i = next(counter)
            if i >= len(reqs):
                exhausted.set()
                break
            began = time.perf_counter()
            status, _ = send(port, reqs[i])
            mine.append(Sample(reqs[i].kind, began, time.perf_counter(), status))
        with lock:
            samples.extend(mine)

    threads = [threading.Thread(target=client, daemon=True) for _ in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return LoadResult(start, max(s.done for s in samples), samples, exhausted.is_set())


# gunicorn ----------------------------------------------------------------------------------


@dataclass
class Server:
    name: str
    proc: subprocess.Popen
    port: int
    log: Path
    worker_pids: list[int] = field(default_factory=list)

    def worker_peaks_mb(self) -> list[float]:
        peaks = []
        for pid in self.worker_pids:
            try:
                peaks.append(peak_rss_mb(pid))
            except (OSError, RuntimeError):
                pass
        return peaks


def server_env(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HOTLINE_", "TWILIO_"))}
    env.update(PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1", **values)
    return env


def hotline_env(db: Database) -> dict[str, str]:
    return server_env(
        HOTLINE_DATABASE_URL=db.url, HOTLINE_PUBLIC_URL=PUBLIC_URL, TWILIO_AUTH_TOKEN=TOKEN,
        HOTLINE_SECRET_KEY="bench-secret", HOTLINE_AUDIO_DIR=str(db.workdir / "audio"),
        HOTLINE_SMS_GATEWAY="twilio", HOTLINE_NUMBER=OUR_NUMBER, HOTLINE_SEND_RATE="0",
    )


def bare_env() -> dict[str, str]:
    return server_env(HOTLINE_PUBLIC_URL=PUBLIC_URL, TWILIO_AUTH_TOKEN=TOKEN)


@contextmanager
def gunicorn(name: str, spec: str, env: dict[str, str], workdir: Path, *,
             workers: int = WORKERS, worker_class: str = "sync", threads: int = 1,
             boot_timeout: float = 60.0) -> Iterator[Server]:
    """gunicorn serving ``spec`` on 127.0.0.1 (a free port), in its own process group; always
    stopped (SIGTERM, then SIGKILL to the group) on the way out."""
    log = workdir / f"gunicorn-{name}.log"
    cmd = [GUNICORN, "--workers", str(workers), "--worker-class", worker_class,
           "--threads", str(threads), "--bind", "127.0.0.1:0", "--log-level", "info",
           "--timeout", "60", spec]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        server = _wait_booted(name, proc, log, workers, boot_timeout)
        yield server
    finally:
        stop_group(proc)


def _wait_booted(name: str, proc: subprocess.Popen, log: Path, workers: int,
                 timeout: float) -> Server:
    deadline = time.monotonic() + timeout
    port, pids = None, []
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace")
        found = re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", text)
        port = int(found[1]) if found else None
        pids = [int(p) for p in re.findall(r"Booting worker with pid: (\d+)", text)]
        if port and len(pids) >= workers:
            break
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn {name} exited: {text[-2000:]}")
        time.sleep(0.05)
    else:
        raise RuntimeError(f"gunicorn {name} did not boot in {timeout:.0f} s")
    return Server(name, proc, port, log, pids[:workers])


def warm_up(server: Server, reqs: Sequence[Req]) -> None:
    """Every worker imports, connects and compiles its statements before anything is timed."""
    result = closed_loop(server.port, reqs, connections=4, seconds=60)
    if result.errors:
        raise RuntimeError(f"warm-up of {server.name}: {result.errors} requests failed; "
                           f"see {server.log}")


# The benchmark -----------------------------------------------------------------------------


@dataclass
class Part:
    """One kind of traffic (sms or ivr) on one backend."""

    name: str
    rate: float
    open: LoadResult | None = None
    closed: LoadResult | None = None
    bare_closed: LoadResult | None = None
    # SMS: the webhook only stores; the scheduler's handle_inbound job acts on the messages.
    closed_with_scheduler: LoadResult | None = None
    waiting: list[int] = field(default_factory=list)  # unhandled, sampled in the open loop
    emptied_after_s: float | None = None  # open loop's last answer → nothing unhandled
    backlog: int = 0  # left by the closed loop without the scheduler
    backlog_s: float | None = None  # the scheduler's time to act on all of it
    # IVR: the closed loops above carry menu steps only (their calls started beforehand);
    # these carry whole calls, the incoming call included.
    closed_calls: LoadResult | None = None
    bare_closed_calls: LoadResult | None = None
    # IVR: voice notice calls we placed, answered (answer, the repeat, a key), open loop.
    notice_open: LoadResult | None = None


@dataclass
class WebhookRun:
    backend: str
    worker_class: str
    parts: list[Part] = field(default_factory=list)
    worker_peaks_mb: list[float] = field(default_factory=list)
    stored_sms: int = 0
    cases: int = 0
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Options:
    seconds: float = 20.0
    closed_seconds: float = 10.0
    connections: int = 8
    sms_rate: float = 100.0
    ivr_rate: float = 50.0
    worker_class: str = "sync"
    threads: int = 1
    parts: tuple[str, ...] = ("sms", "ivr")
    warmup: int = 200
    max_closed_rate: int = 3000  # requests prepared per closed-loop second

    def quick(self) -> Options:
        from dataclasses import replace

        return replace(self, seconds=4.0, closed_seconds=3.0, warmup=60)


def seed_people(db: Database) -> None:
    """The demo's groups, peer educators and providers, and 500 registered members among the
    numbers the SMS traffic comes from, so cases get assigned and TT finds cases."""
    from sqlalchemy import insert

    from hotline import clock
    from hotline.db import make_engine, make_sessionmaker, session_scope
    from hotline.models import Person
    from hotline.seed import seed_demo

    engine = make_engine(db.url)
    try:
        now = clock.utcnow()
        with session_scope(make_sessionmaker(engine)) as session:
            seed_demo(session, now)
            session.execute(insert(Person), [
                {"phone": f"+8498{i:07d}", "name": f"Hoi vien {i}", "created_at": now,
                 "registered_at": now, "ward_current": "Hồng Hà"}
                for i in range(0, 2000, 4)
            ])
    finally:
        engine.dispose()


def count_stored(db: Database) -> tuple[int, int]:
    """(inbound twilio messages, cases) in the database."""
    from sqlalchemy import func, select

    from hotline.db import make_engine
    from hotline.models import Case, Direction, Message

    engine = make_engine(db.url)
    try:
        with engine.connect() as conn:
            sms = conn.scalar(select(func.count()).select_from(Message).where(
                Message.direction == Direction.IN, Message.gateway == "twilio"))
            cases = conn.scalar(select(func.count()).select_from(Case))
        return sms, cases
    finally:
        engine.dispose()


def check_walk(result: LoadResult, walk: Walk, problems: list[str]) -> None:
    """Every IVR answer must lead to the URL the walk expects next."""
    wrong = 0
    for sample in result.ok():
        k = sample.req.index
        if k + 1 >= len(walk.steps):
            continue
        expected = walk.steps[k + 1][0]
        if next_path(sample.body, walk.steps[k + 1][1]) != expected:
            wrong += 1
    if wrong:
        problems.append(f"{wrong} IVR answers did not lead to the expected next step")


def run_webhooks(db: Database, bare_port: int | None, opts: Options = Options()) -> WebhookRun:
    """The benchmark on ``db`` (migrated, empty); the bare app, when given, is already
    served on ``bare_port``."""
    run = WebhookRun(db.backend, opts.worker_class)
    seed_people(db)
    walk = learn_walk(db) if "ivr" in opts.parts else None
    notice_walk = (learn_notice_walk(db, seed_notices(db)) if "ivr" in opts.parts
                   else None)
    closed_n = int(opts.closed_seconds * opts.max_closed_rate)
    sms_sent = 0
    with gunicorn(f"hotline-{db.backend}", HOTLINE_APP, hotline_env(db), db.workdir,
                  worker_class=opts.worker_class, threads=opts.threads) as server:
        # SMS sent and calls made so far: ids never repeat
        made = {"sms": 0, "ivr": 0, "notice": 0}

        def batch(name: str, n: int, seed: int) -> list[Req]:
            if name == "sms":
                reqs = sms_requests(n, seed=seed, first=made["sms"])
                made["sms"] += n
            elif name == "notice":
                reqs = notice_requests(notice_walk, n, first_call=made["notice"])
                made["notice"] = max(r.call for r in reqs) + 1
            else:
                reqs = ivr_requests(walk, n, first_call=made["ivr"])
                made["ivr"] = max(r.call for r in reqs) + 1
            return reqs

        for name in opts.parts:
            per_second = opts.sms_rate if name == "sms" else opts.ivr_rate
            part = Part(name, per_second)
            run.parts.append(part)
            warm = batch(name, opts.warmup, 1)
            warm_up(server, warm)
            sms_sent += len(warm) if name == "sms" else 0
            if name == "sms":
                sms_sent += sms_part(db, server, part, batch, bare_port, opts, closed_n)
            else:
                note(f"{db.backend} ivr: open loop, {per_second:g}/s for {opts.seconds:g} s")
                reqs = batch(name, int(per_second * opts.seconds), 2)
                part.open = open_loop(server.port, reqs, per_second, keep_bodies=True)
                check_walk(part.open, walk, run.problems)
                warm_up(server, batch("notice", opts.warmup, 1))
                note(f"{db.backend} ivr: notice calls, open loop, {per_second:g}/s for "
                     f"{opts.seconds:g} s")
                part.notice_open = open_loop(server.port,
                                             batch("notice", int(per_second * opts.seconds), 2),
                                             per_second, keep_bodies=True)
                check_notice_walk(part.notice_open, notice_walk, run.problems)
                ivr_closed_loops(db, server, part, batch, bare_port, opts, closed_n)
            for label, result in (("open loop", part.open), ("closed loop", part.closed),
                                  ("open loop of notice calls", part.notice_open),
                                  ("closed loop beside the scheduler",
                                   part.closed_with_scheduler),
                                  ("bare closed loop", part.bare_closed),
                                  ("closed loop of whole calls", part.closed_calls),
                                  ("bare closed loop of whole calls",
                                   part.bare_closed_calls)):
                if result is not None and result.errors:
                    run.problems.append(f"{name} {label}: {result.errors} of "
                                        f"{len(result.samples)} requests not answered 200")
                if result is not None and result.exhausted:
                    run.problems.append(f"{name} {label}: ran out of prepared requests "
                                        f"(raise max_closed_rate)")
        run.worker_peaks_mb = server.worker_peaks_mb()
    if "sms" in opts.parts:
        run.stored_sms, run.cases = count_stored(db)
        if run.stored_sms != sms_sent:
            run.problems.append(f"{sms_sent} SMS webhooks answered, {run.stored_sms} stored")
        if (left := unhandled_sms(db)) != 0:
            run.problems.append(f"{left} stored SMS never acted on")
    return run


def sms_part(db: Database, server: Server, part: Part, batch, bare_port: int | None,
             opts: Options, closed_n: int) -> int:
    """The SMS runs; returns how many SMS webhooks were answered.

    The webhook stores and the scheduler's ``handle_inbound`` job acts, so the real
    scheduler process (``flask scheduler run``) runs beside gunicorn for the open loop and
    a first closed loop, as in production. The ratio to the bare app (which has no second
    process) is taken from a closed loop with the scheduler stopped; the backlog that loop
    leaves is then timed through the scheduler, and every stored SMS must end acted on.
    """
    b, log = db.backend, db.workdir / "scheduler.log"
    sent = 0
    with scheduler_process(scheduler_env(db), log) as sched:
        wait_for(lambda: unhandled_sms(db) == 0, 120, "the warm-up to be acted on", sched,
                 log)
        note(f"{b} sms: open loop, {part.rate:g}/s for {opts.seconds:g} s, scheduler on")
        reqs = batch("sms", int(part.rate * opts.seconds), 2)
        with sampling(lambda: unhandled_sms(db)) as part.waiting:
            part.open = open_loop(server.port, reqs, part.rate)
        sent += len(reqs)
        wait_for(lambda: unhandled_sms(db) == 0, 300, "the open loop to be acted on", sched,
                 log)
        part.emptied_after_s = time.perf_counter() - part.open.ended
        note(f"{b} sms: closed loop, {opts.connections} connections for "
             f"{opts.closed_seconds:g} s, scheduler on")
        part.closed_with_scheduler = closed_loop(server.port, batch("sms", closed_n, 4),
                                                 connections=opts.connections,
                                                 seconds=opts.closed_seconds)
        sent += len(part.closed_with_scheduler.samples)
        wait_for(lambda: unhandled_sms(db) == 0, 600, "that loop to be acted on", sched, log)
    note(f"{b} sms: closed loop, {opts.connections} connections for {opts.closed_seconds:g} "
         f"s, scheduler stopped (hotline, then bare app)")
    reqs = batch("sms", closed_n, 3)
    part.closed = closed_loop(server.port, reqs, connections=opts.connections,
                              seconds=opts.closed_seconds)
    sent += len(part.closed.samples)
    if bare_port is not None:
        part.bare_closed = closed_loop(bare_port, reqs, connections=opts.connections,
                                       seconds=opts.closed_seconds)
    part.backlog = unhandled_sms(db)
    note(f"{b} sms: the scheduler acts on the {part.backlog:,} left")
    with scheduler_process(scheduler_env(db), log) as sched:
        wait_for(lambda: unhandled_sms(db) < part.backlog, 120, "the scheduler to start",
                 sched, log)
        started = time.perf_counter()
        wait_for(lambda: unhandled_sms(db) == 0, 1200, "the backlog to be acted on", sched,
                 log, every=0.1)
        part.backlog_s = time.perf_counter() - started
    failures = [line for line in log.read_text(errors="replace").splitlines()
                if "Traceback" in line or "handling failed" in line]
    if failures:
        raise RuntimeError(f"the scheduler failed while acting on SMS: see {log}")
    return sent


def ivr_closed_loops(db: Database, server: Server, part: Part, batch, bare_port: int | None,
                     opts: Options, closed_n: int) -> None:
    """Menu steps alone (the goal: "a voice-menu step"), their calls started beforehand and
    untimed; then whole calls, the incoming call (a call row, the caller's person, the
    consent question) included. Each followed by the bare app on the same requests."""
    reqs = batch("ivr", closed_n, 3)
    started = [r for r in reqs if r.kind == "incoming"]
    note(f"{db.backend} ivr: starting {len(started):,} calls (untimed)")
    warm = closed_loop(server.port, started, connections=opts.connections, seconds=600)
    if warm.errors or len(warm.samples) != len(started):
        raise RuntimeError(f"starting the calls: {warm.errors} of {len(started)} failed")
    steps = [r for r in reqs if r.kind == "step"]
    note(f"{db.backend} ivr: closed loops, {opts.connections} connections for "
         f"{opts.closed_seconds:g} s: menu steps, then whole calls (hotline, then bare app)")
    part.closed = closed_loop(server.port, steps, connections=opts.connections,
                              seconds=opts.closed_seconds)
    if bare_port is not None:
        part.bare_closed = closed_loop(bare_port, steps, connections=opts.connections,
                                       seconds=opts.closed_seconds)
    calls = batch("ivr", closed_n, 5)
    part.closed_calls = closed_loop(server.port, calls, connections=opts.connections,
                                    seconds=opts.closed_seconds)
    if bare_port is not None:
        part.bare_closed_calls = closed_loop(bare_port, calls, connections=opts.connections,
                                             seconds=opts.closed_seconds)


def scheduler_env(db: Database) -> dict[str, str]:
    """The hotline's settings for ``flask scheduler run``, replies sent to nowhere: the
    simulator gateways (the outbox benchmark measures sending through the twilio client)."""
    return {**hotline_env(db), "HOTLINE_SMS_GATEWAY": "simulator",
            "HOTLINE_VOICE_GATEWAY": "simulator"}


def unhandled_sms(db: Database) -> int:
    """Stored inbound SMS the ``handle_inbound`` job has not acted on yet."""
    from sqlalchemy import func, select

    from hotline.db import make_engine
    from hotline.models import Direction, Message

    engine = make_engine(db.url)
    try:
        with engine.connect() as conn:
            return conn.scalar(select(func.count()).select_from(Message).where(
                Message.direction == Direction.IN, Message.handled_at.is_(None)))
    finally:
        engine.dispose()


@contextmanager
def sampling(probe, every: float = 0.1) -> Iterator[list[int]]:
    """``probe()`` every ``every`` seconds in a thread while the block runs."""
    values: list[int] = []
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(every):
            values.append(probe())

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield values
    finally:
        stop.set()
        thread.join()


def figures(run: WebhookRun, opts: Options) -> list[Figure]:
    b, rows = run.backend, []
    how = f"gunicorn {WORKERS} {run.worker_class} workers"
    for part in run.parts:
        label = "SMS inbound" if part.name == "sms" else "IVR menu step"
        kind = None if part.name == "sms" else "step"
        if part.open is not None:
            s = part.open.summary(kind)
            goal = SMS_P99_GOAL if part.name == "sms" else IVR_P99_GOAL.get(b, SMS_P99_GOAL)
            rows.append(Figure(
                f"{label} p99, open loop {part.rate:g}/s", b, s["p99_ms"], "ms", goal,
                f"p50 {s['p50_ms']:.1f} ms, p90 {s['p90_ms']:.1f} ms, max {s['max_ms']:.0f} ms; "
                f"{part.open.achieved:.1f} req/s achieved, {len(part.open.samples):,} requests, "
                f"{how}"))
            if part.name == "ivr":
                s = part.open.summary("incoming")
                rows.append(Figure(f"IVR incoming call p99, open loop {part.rate:g}/s", b,
                                   s["p99_ms"], "ms", None, f"p50 {s['p50_ms']:.1f} ms"))
        if part.notice_open is not None:
            rows += notice_figures(part, b, how)
        if part.waiting:
            mean_waiting = sum(part.waiting) / len(part.waiting)
            rows.append(Figure(
                f"SMS acted on by the scheduler, open loop {part.rate:g}/s", b,
                mean_waiting / part.rate, "s", None,
                f"mean wait (Little: mean unhandled {mean_waiting:.1f} ÷ {part.rate:g}/s); "
                f"at most {max(part.waiting)} waiting; all acted on "
                f"{part.emptied_after_s:.1f} s after the last webhook"))
        if part.closed is not None:
            c = part.closed
            s = c.summary()
            alone = (", scheduler stopped" if part.closed_with_scheduler is not None
                     else ", steps only" if part.closed_calls is not None else "")
            rows.append(Figure(
                f"{label} max throughput, {opts.connections} connections{alone}", b,
                c.achieved, "req/s", None, f"p50 {s['p50_ms']:.1f} ms, p99 "
                f"{s['p99_ms']:.1f} ms, {len(c.samples):,} requests in "
                f"{c.ended - c.started:.1f} s"))
        if part.bare_closed is not None and part.closed is not None:
            bare = part.bare_closed
            rows.append(Figure(
                f"bare Flask + twilio app ({part.name}), {opts.connections} connections",
                b, bare.achieved, "req/s", None,
                f"p50 {bare.summary()['p50_ms']:.1f} ms, measured right after"))
            rows.append(Figure(f"{label} throughput ÷ bare app", b,
                               part.closed.achieved / bare.achieved, "×", RATIO_GOAL, ""))
        if part.closed_calls is not None:
            c = part.closed_calls
            s = c.summary()
            ratio = (f"{c.achieved / part.bare_closed_calls.achieved:.2f} of the bare app "
                     f"({part.bare_closed_calls.achieved:,.0f} req/s); "
                     if part.bare_closed_calls is not None else "")
            rows.append(Figure(
                f"IVR whole calls (incoming + steps) max throughput, {opts.connections} "
                "connections", b, c.achieved, "req/s", None,
                f"{ratio}p50 {s['p50_ms']:.1f} ms, p99 {s['p99_ms']:.1f} ms"))
        if part.closed_with_scheduler is not None:
            c = part.closed_with_scheduler
            s = c.summary()
            ratio = (f"{c.achieved / part.bare_closed.achieved:.2f} of the bare app; "
                     if part.bare_closed is not None else "")
            rows.append(Figure(
                f"{label} max throughput, {opts.connections} connections, scheduler acting "
                "alongside", b, c.achieved, "req/s", None,
                f"{ratio}p50 {s['p50_ms']:.1f} ms, p99 {s['p99_ms']:.1f} ms"))
        if part.backlog_s:
            rows.append(Figure(
                "handle_inbound job: backlog acted on", b, part.backlog / part.backlog_s,
                "msg/s", None, f"{part.backlog:,} stored SMS in {part.backlog_s:.1f} s, one "
                "transaction each, by `flask scheduler run`"))
    if run.worker_peaks_mb:
        rows.append(Figure("web worker peak RSS (VmHWM)", b, max(run.worker_peaks_mb), "MB",
                           RSS_GOAL, ", ".join(f"{p:.0f}" for p in run.worker_peaks_mb)
                           + f" MB for the {len(run.worker_peaks_mb)} workers"))
    if run.stored_sms:
        rows.append(Figure("SMS stored once", b, run.stored_sms, "msgs", None,
                           f"{run.cases:,} cases opened"))
    return rows


NOTICE_LABELS = {"notice_answer": "answered (AnsweredBy human: the notice read)",
                 "notice_repeat": "the repeat (1: read again)",
                 "notice_key": "a key that acts (0: no more calls)"}


def notice_figures(part: Part, backend: str, how: str) -> list[Figure]:
    """p99 of each step of a notice call (``/ivr/notice``), open loop."""
    result, rows = part.notice_open, []
    for kind in NOTICE_KINDS:
        s = result.summary(kind)
        rows.append(Figure(
            f"IVR notice call, {NOTICE_LABELS[kind]} p99, open loop {part.rate:g}/s", backend,
            s["p99_ms"], "ms", NOTICE_P99_GOAL,
            f"p50 {s['p50_ms']:.1f} ms, p90 {s['p90_ms']:.1f} ms, max {s['max_ms']:.0f} ms; "
            f"{len(result.ok(kind)):,} requests ({result.achieved:.1f} req/s achieved, all "
            f"three steps), {how}"))
    return rows


def bare_figures(result: LoadResult, per_second: float, what: str) -> Figure:
    s = result.summary()
    return Figure(f"bare app ({what}) p99, open loop {per_second:g}/s", "–", s["p99_ms"], "ms",
                  None, f"p50 {s['p50_ms']:.1f} ms, max {s['max_ms']:.0f} ms, "
                  f"{result.achieved:.1f} req/s achieved")


def _raise_on_sigterm() -> None:
    """SIGTERM (a timeout, a CI stop) unwinds like Ctrl-C, so servers get stopped."""
    def handler(signum, frame):
        raise SystemExit(128 + signum)
    signal.signal(signal.SIGTERM, handler)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.webhooks",
                                     description=__doc__.split("\n\n")[0])
    add_backend_args(parser)
    parser.add_argument("--only", choices=("sms", "ivr"), help="one kind of traffic")
    parser.add_argument("--seconds", type=float, default=20.0, help="open-loop seconds")
    parser.add_argument("--closed-seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=8, help="closed-loop clients")
    parser.add_argument("--sms-rate", type=float, default=100.0)
    parser.add_argument("--ivr-rate", type=float, default=50.0)
    parser.add_argument("--worker-class", choices=("sync", "gthread"), default="sync")
    parser.add_argument("--threads", type=int, default=1, help="threads per gthread worker")
    parser.add_argument("--no-bare", action="store_true", help="skip the bare app")
    parser.add_argument("--quick", action="store_true",
                        help="4 s open loop, 3 s closed loop: a check that it all works")
    parser.add_argument("--rounds", type=int, default=0,
                        help="only the ratio to the bare app: N alternating closed-loop "
                             "rounds of each (bench/webhook_rounds.py)")
    parser.add_argument("--database", metavar="URL",
                        help="with --rounds: serve this database as it is (e.g. the one "
                             "`make run` seeded) instead of a throwaway one")
    args = parser.parse_args(argv)
    if args.database and not args.rounds:
        parser.error("--database needs --rounds")
    opts = Options(seconds=args.seconds, closed_seconds=args.closed_seconds,
                   connections=args.connections, sms_rate=args.sms_rate,
                   ivr_rate=args.ivr_rate, worker_class=args.worker_class,
                   threads=args.threads, parts=(args.only,) if args.only else ("sms", "ivr"))
    if args.quick:
        opts = opts.quick()
    _raise_on_sigterm()
    print_header("python -m bench.webhooks", args.backend, argv)
    note(load_line())
    rows: list[Figure] = []
    failed = False
    try:
        with _bare_server(args.no_bare, opts) as bare:
            if bare is not None and not args.rounds:
                rows += _bare_open_loops(bare, opts)
            if args.rounds and bare is None:
                parser.error("--rounds needs the bare app")
            for db in _served(args):
                if args.rounds:
                    from bench.webhook_rounds import round_figures, run_rounds

                    run = run_rounds(db, bare, opts, args.rounds,
                                     given=bool(args.database))
                    rows += round_figures(run, opts)
                else:
                    run = run_webhooks(db, bare.port if bare else None, opts)
                    rows += figures(run, opts)
                note(f"{db.backend} done; {load_line()}")
                failed |= report_problems(db.backend, run.problems)
    except BackendUnavailable as exc:
        print(exc, file=sys.stderr)
        return 2
    print(f"Load: {load_line()}")
    print_table(rows, title="Webhooks")
    return 1 if failed else 0


def _served(args) -> Iterator[Database]:
    """The databases to serve: the one given, else a throwaway one per backend."""
    if args.database:
        from bench.webhook_rounds import given_database

        with given_database(args.database) as db:
            yield db
        return
    yield from databases(args.backend)


@contextmanager
def _bare_server(skip: bool, opts: Options) -> Iterator[Server | None]:
    if skip:
        yield None
        return
    import tempfile

    with tempfile.TemporaryDirectory(prefix="hotline-bench-bare-") as tmp, gunicorn(
        "bare", BARE_APP, bare_env(), Path(tmp), worker_class=opts.worker_class,
        threads=opts.threads,
    ) as server:
        warm_up(server, sms_requests(opts.warmup, seed=99, first=10**8))
        yield server


def _bare_open_loops(bare: Server, opts: Options) -> list[Figure]:
    rows = []
    if "sms" in opts.parts:
        reqs = sms_requests(int(opts.sms_rate * opts.seconds), seed=98, first=2 * 10**8)
        rows.append(bare_figures(open_loop(bare.port, reqs, opts.sms_rate), opts.sms_rate,
                                 "sms"))
    return rows


if __name__ == "__main__":
    sys.exit(main())
