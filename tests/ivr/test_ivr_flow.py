"""The voice menu end to end: a scripted caller follows the TwiML it gets."""

from __future__ import annotations

import re
from collections import deque
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select, update

from audio.prompts import catalogue_at
from hotline import clock
from hotline.models import (
    Call,
    CallbackRequest,
    CallStep,
    Case,
    Consent,
    Message,
    Person,
    Recording,
    Role,
)
from hotline.services import cases
from hotline.services.outbox import Outbox
from ivr.menu import (
    ACTIONS,
    ALERT_PROMPTS,
    GROUP_PICK_NODES,
    MENU,
    NOTICE_PROMPTS,
    choose,
    reachable_prompt_keys,
)
from tests.conftest import AUTH_TOKEN, BACKEND
from tests.factories import create_person
from tests.ivr.ivr_caller import Caller, fresh_phone, query, sign

DUTY_TRAINED = "+84911000001"
DUTY_OTHER = "+84911000002"


@pytest.fixture
def settings(settings):
    return settings.replace(twilio_auth_token=AUTH_TOKEN, twilio_account_sid="AC" + "0" * 32)


@pytest.fixture
def duty(db):
    """Two peer educators on duty (one trained for violence cases), one off duty."""
    now = clock.utcnow()
    create_person(db, now, phone=DUTY_OTHER, role=Role.PEER_EDUCATOR, on_duty=True,
                  duty_order=1)
    create_person(db, now, phone=DUTY_TRAINED, role=Role.PEER_EDUCATOR, on_duty=True,
                  trained_violence=True, duty_order=2)
    create_person(db, now, phone="+84911000003", role=Role.PEER_EDUCATOR, on_duty=False)
    db.commit()


def count(db, model) -> int:
    return db.scalar(select(func.count()).select_from(model))


def agreed(client, phone=None) -> Caller:
    """A caller who has agreed to the consent question and is at the main menu."""
    caller = Caller(client, phone=phone or fresh_phone()).call()
    if caller.node == "consent":
        caller.agree()
    assert caller.node == "main"
    return caller


# --------------------------------------------------------------------------------------------
# Consent on the first call
# --------------------------------------------------------------------------------------------


def test_first_call_asks_consent_and_stores_the_answer_like_sms(client, db):
    caller = Caller(client).call()
    assert caller.heard == ["welcome", "consent_ask"]
    consent = db.scalar(select(Consent))
    assert (consent.purpose, consent.channel, consent.answer) == ("register", "voice", None)
    assert consent.question == catalogue_at(clock.utcnow())["consent_ask"]

    caller.press("1")
    assert caller.heard == ["consent_thanks", "channel_offer_ask"]
    caller.silence()  # how she is told: no key keeps SMS, on to the main menu
    assert caller.heard == ["main_menu"] and caller.node == "main"
    db.expire_all()
    consent = db.scalar(select(Consent))
    assert consent.answer == "granted" and consent.answered_at is not None
    assert count(db, Consent) == 1

    again = Caller(client, phone=caller.phone).call()
    assert again.heard == ["welcome", "main_menu"]
    assert count(db, Consent) == 1


def test_refusal_is_stored_and_consent_asked_again_before_anything_is_recorded(client, db):
    caller = Caller(client).call().press("2")
    assert caller.heard == ["consent_refused", "main_menu"]
    assert db.scalar(select(Consent.answer)) == "refused"

    caller.press("2").press("1")  # report a problem: goods seized
    assert caller.heard == ["consent_ask"] and caller.node == "consent"
    assert query(caller.waiting.get("action"))["resume"] == "report"
    assert count(db, Consent) == 2

    caller.press("1")  # agrees now, keeps SMS: back where she was going
    assert caller.heard == ["consent_thanks", "channel_offer_ask"]
    caller.press("2")
    assert caller.heard == ["channel_sms_said", *MENU.nodes["report"].prompts]
    assert caller.node == "report"
    caller.press("1")
    assert caller.kind == "record" and caller.heard == ["record_instructions"]
    db.expire_all()
    answers = db.scalars(select(Consent.answer).order_by(Consent.id)).all()
    assert answers == ["refused", "granted"]


def test_refusing_again_returns_to_the_main_menu_and_records_nothing(client, db):
    caller = Caller(client).call().press("2").press("4")  # callback needs consent
    assert caller.node == "consent"
    caller.press("2")
    assert caller.heard == ["consent_refused", "main_menu"]
    assert count(db, CallbackRequest) == 0


def test_information_and_key_9_need_no_consent(client, db, duty):
    caller = Caller(client).call().press("2").press("1").press("1")
    assert caller.heard == ["info_bhyt", "info_end"]
    caller.press("0").press("0").press("9")  # she refused consent: key 9 still opens a case
    case = db.scalars(select(Case)).one()
    assert case.emergency and caller.kind == "dial"
    assert caller.heard[-2:] == ["emergency_numbers", "dial_duty_connecting"]


def test_withheld_number_hears_the_menu_but_nothing_is_stored_about_her(client, db):
    caller = Caller(client, phone="anonymous").call()
    assert caller.heard == ["welcome", "main_menu"]
    caller.press("4")
    assert caller.heard == ["consent_refused", "main_menu"]
    assert count(db, CallbackRequest) == 0 and count(db, Person) == 0
    assert db.scalar(select(Call.phone)) == "anonymous"


# --------------------------------------------------------------------------------------------
# Repeat, back, silence, wrong keys
# --------------------------------------------------------------------------------------------


def test_star_repeats_and_zero_goes_back(client, db):
    caller = agreed(client)
    caller.press("1")
    assert caller.node == "info" and caller.heard == ["info_menu"]
    caller.press("*")
    assert caller.node == "info" and caller.heard == ["info_menu"]
    caller.press("2")
    assert caller.heard == ["info_bhxh", "info_bhxh_support", "info_end"]
    caller.press("0")
    assert caller.node == "info"
    caller.press("0")
    assert caller.node == "main" and caller.heard == ["main_menu"]
    caller.press("3").press("1")  # her case, under "more" (four choices a menu)
    assert caller.node == "case_lookup"
    caller.press("*")  # 0 is a digit when keying a number: '*' goes back
    assert caller.node == "main"


@pytest.mark.parametrize("inputs", [
    ["silence", "silence", "silence"],
    ["7", "#", "0"],
    ["8", "silence", "6"],
])
def test_no_input_or_wrong_keys_replay_twice_then_end_kindly(client, db, inputs):
    caller = agreed(client)
    for i, key in enumerate(inputs):
        caller.silence() if key == "silence" else caller.press(key)
        reason = "no_input" if key == "silence" else "invalid_key"
        if i < 2:
            assert caller.heard == [reason, "main_menu"] and caller.node == "main"
            assert query(caller.waiting.get("action"))["r"] == str(i + 1)
        else:
            assert caller.heard == ["goodbye"] and caller.kind == "hangup"


def test_a_good_key_resets_the_retries(client, db):
    caller = agreed(client).press("7").press("7").press("1")
    assert caller.node == "info" and query(caller.waiting.get("action"))["r"] == "0"
    caller.press("8").press("8")  # the information menu has no 8 (7 is safety)
    assert caller.node == "info"
    caller.press("8")
    assert caller.kind == "hangup"


def test_gather_matches_the_menu_data(client, db):
    caller = agreed(client)
    gather = caller.waiting
    assert (gather.get("numDigits"), gather.get("finishOnKey"), gather.get("timeout")) == (
        "1", "", "6")
    caller.press("3").press("1")
    gather = caller.waiting
    assert (gather.get("numDigits"), gather.get("finishOnKey"), gather.get("timeout")) == (
        "10", "#", "10")


# --------------------------------------------------------------------------------------------
# Actions
# --------------------------------------------------------------------------------------------


def test_case_status_by_keypad_only_for_her_own_cases(client, db):
    now = clock.utcnow()
    caller = agreed(client)
    me = db.scalar(select(Person).where(Person.phone == caller.phone))
    other = create_person(db, now)
    mine = cases.open_case(db, now, Outbox(db), person=me, channel="sms", category=5)
    mine.status = "referred"
    theirs = cases.open_case(db, now, Outbox(db), person=other, channel="sms")
    db.commit()

    caller.press("3").press("1").press(str(mine.number))
    assert caller.heard == ["case_status_referred", "main_menu"]
    caller.press("3").press("1").press(str(theirs.number))
    assert caller.heard == ["case_not_found", "case_enter_number"]
    assert caller.node == "case_lookup"
    caller.press("99999")
    assert caller.heard == ["case_not_found", "case_enter_number"]
    caller.press("12*3")
    assert caller.heard == ["invalid_key", "case_enter_number"]


def test_callback_request_is_queued_once(client, db):
    caller = agreed(client).press("4")
    assert caller.heard == ["callback_queued", "goodbye"] and caller.kind == "hangup"
    agreed(client, phone=caller.phone).press("1").press("3").press("4")  # again, on a topic
    assert count(db, CallbackRequest) == 1
    callback = db.scalar(select(CallbackRequest))
    assert (callback.phone, callback.reason, callback.status) == (caller.phone, "ivr", "queued")
    # Placed once she has hung up: she hears goodbye first.
    assert callback.due_at == callback.created_at + timedelta(minutes=1)


def test_dial_duty_rings_the_roster_then_voicemail(client, db, duty):
    caller = agreed(client).press("5")
    assert caller.heard == ["dial_duty_connecting"] and caller.kind == "dial"
    dial = caller.last
    assert dial.get("timeout") == "20"
    assert [n.text for n in dial] == [DUTY_OTHER, DUTY_TRAINED]

    caller.dial_ends("no-answer")
    assert caller.heard == ["dial_duty_failed", "record_instructions"]
    assert caller.kind == "record"
    caller.speak()
    case = db.scalar(select(Case))
    assert case.category == 12 and case.channel == "voice"
    assert caller.heard[0] == "case_created"


def test_dial_answered_ends_with_goodbye(client, db, duty):
    caller = agreed(client).press("5").dial_ends("completed")
    assert caller.heard == ["goodbye"] and caller.kind == "hangup"
    assert count(db, Case) == 0


def test_violence_goes_only_to_trained_peer_educators(client, db, duty):
    caller = agreed(client).press("2").press("3")
    assert caller.heard == ["report_safety"]
    caller.press("1")
    assert [n.text for n in caller.last] == [DUTY_TRAINED]
    caller.dial_ends("busy").speak()
    assert db.scalar(select(Case.category)) == 3


def test_nobody_on_duty_goes_straight_to_voicemail(client, db):
    caller = agreed(client).press("5")
    assert caller.heard == ["dial_duty_failed", "record_instructions"]
    assert caller.kind == "record"


def test_peer_educator_calling_is_not_dialled_herself(client, db, duty):
    caller = agreed(client, phone=DUTY_OTHER).press("5")
    assert [n.text for n in caller.last] == [DUTY_TRAINED]


def test_key_9_is_announced_first_and_opens_an_emergency_case_and_dials(client, db, duty):
    first = catalogue_at(clock.utcnow())["main_menu"].split(".")[0]
    assert first == "Nếu chị đang gặp nguy hiểm, bấm phím chín"
    coordinator = create_person(db, clock.utcnow(), phone="+84911000009",
                                role=Role.COORDINATOR)
    db.commit()
    caller = agreed(client).press("9")
    case = db.scalars(select(Case)).one()
    assert case.emergency and case.channel == "voice" and case.status == "new"
    number = [k.removeprefix("digit_") for k in caller.heard if k.startswith("digit_")]
    assert caller.heard[0] == "emergency_opened" and "".join(number) == str(case.number)
    assert caller.heard[-2:] == ["emergency_numbers", "dial_duty_connecting"]
    # The trained responder on call and the coordinator; never the untrained one.
    assert [n.text for n in caller.last] == [DUTY_TRAINED, coordinator.phone]
    texts = db.scalars(select(Message).where(Message.phone == caller.phone)).all()
    assert len(texts) == 1 and texts[0].kind == "urgent" and "113" in texts[0].body
    caller.retry()  # Twilio retries the keypress: still one case, one text
    assert count(db, Case) == 1
    assert len(db.scalars(select(Message).where(Message.phone == caller.phone)).all()) == 1


def test_key_9_nobody_answering_leaves_a_message_on_the_same_case(client, db, duty):
    caller = agreed(client).press("9").dial_ends("no-answer")
    assert caller.heard == ["dial_duty_failed", "record_instructions"]
    caller.speak()
    case = db.scalars(select(Case)).one()
    assert case.emergency
    recording = db.scalars(select(Recording)).one()
    assert recording.case_id == case.id


def test_key_9_with_nobody_on_call_still_reads_the_numbers_and_records(client, db):
    caller = agreed(client).press("9")
    assert "emergency_numbers" in caller.heard and caller.kind == "record"


def test_unknown_node_in_a_url_starts_over_at_the_main_menu(client, db):
    caller = agreed(client)
    form = caller.form(Digits="1")
    caller.post("/ivr/menu?node=gone&n=5&r=0", form)
    assert caller.heard == ["invalid_key", "main_menu"]


# --------------------------------------------------------------------------------------------
# Every path
# --------------------------------------------------------------------------------------------


def _inputs(caller: Caller) -> list[tuple]:
    if caller.kind == "gather":
        node = MENU.nodes[caller.node]
        if node.choices:  # a complaint number: each one, and some that are none
            keys = ["*", "0", "13", "00", "1*", *node.choices]
        elif node.gather_digits > 1:
            keys = ["*", "1001", "99999", "12*3", "0"]
        else:
            keys = list("0123456789*#")
        if query(caller.waiting.get("action"))["r"] != "0":
            # A replay after silence or a wrong key: the same keys lead to the same places as
            # on the first play (checked there); only the retry count differs. Try one key that
            # leads on, one wrong key and silence.
            good = [k for k in keys if choose(MENU, node.key, k) is not None]
            bad = [k for k in keys if choose(MENU, node.key, k) is None]
            keys = good[:1] + bad[:1]
        return [("press", k) for k in keys] + [("silence",)]
    if caller.kind == "record":
        return [("speak",), ("silence",)]
    if caller.kind == "dial":
        return [("dial", "completed"), ("dial", "no-answer"), ("dial", "busy")]
    return []


def test_every_path_of_the_menu_ends_well(client, db, duty):
    """Breadth first over every state the caller can reach (node, retries, where consent
    resumes, recording, dialling), pressing every key and keeping silent in each, each path
    replayed on a fresh call from a fresh number. Every answer is checked by ``check_twiml``:
    no dead end, no error, goodbye before every hang-up."""
    start = Caller(client).call()
    paths = {start.state: []}
    todo = deque([(start, [])])
    # The main menu is first explored as a caller who agreed (then kept SMS): a refusal
    # leads to the same state, and the one found first is the one walked on from.
    agreed_path = [("press", "1"), ("silence",)]
    agreed = Caller(client).call()
    for action in agreed_path:
        agreed.do(action)
    paths[agreed.state] = agreed_path
    todo.append((agreed, agreed_path))
    nodes, heard, hangups = set(), set(start.heard), 0
    while todo:
        sample, path = todo.popleft()
        if sample.kind == "gather":
            nodes.add(sample.node)
        for action in _inputs(sample):
            caller = Caller(client).call()
            for earlier in path:
                caller.do(earlier)
            caller.do(action)
            heard.update(caller.heard)
            hangups += caller.kind == "hangup"
            if caller.state not in paths:
                paths[caller.state] = path + [action]
                todo.append((caller, path + [action]))
    # The RSVP question follows a meeting, the group list needs groups; these callers are
    # in no group and there is none (see the meeting and keypad registration tests).
    assert nodes == set(MENU.nodes) - {"meeting_rsvp", *GROUP_PICK_NODES}
    expected = reachable_prompt_keys() - {k for k in heard if k.startswith("digit_")}
    expected -= set(ACTIONS["next_meeting"].prompts) - {"meeting_none"}
    expected -= set(MENU.nodes["meeting_rsvp"].prompts) | set(ACTIONS["rsvp"].prompts)
    expected -= {f"case_status_{s}" for s in ("new", "acknowledged", "in_progress", "referred",
                                              "resolved", "closed")}
    expected -= set(ALERT_PROMPTS)  # heard on the alert calls placed to responders
    expected -= set(NOTICE_PROMPTS)  # heard on the notice calls placed to members
    expected -= (set(ACTIONS["list_groups"].prompts) | set(MENU.nodes["group_pick"].prompts)
                 | set(ACTIONS["join_group"].prompts)) - {"group_none"}
    assert expected - heard == set()
    assert hangups > 0
    assert any(state.startswith("dial") for state in paths)
    assert any(state.startswith("record") and "'r': '2'" in state for state in paths)


# --------------------------------------------------------------------------------------------
# Steps stored once; signatures
# --------------------------------------------------------------------------------------------


def test_each_step_is_stored_once_whatever_twilio_retries(client, db, duty):
    caller = Caller(client).call()
    first = caller.root
    caller.retry()
    assert [e.tag for e in caller.root] == [e.tag for e in first]
    steps = [("press", "1"), ("silence",), ("press", "3"), ("press", "1"), ("press", "99999"),
             ("press", "*"), ("press", "5"), ("dial", "no-answer"), ("silence",), ("speak",)]
    for action in steps:
        caller.do(action)
        before = caller.heard
        caller.retry()
        caller.retry()
        assert caller.heard == before
    call = db.scalar(select(Call))
    stored = db.execute(select(CallStep.step, CallStep.node, CallStep.digits)
                        .where(CallStep.call_id == call.id).order_by(CallStep.id)).all()
    assert [s.step for s in stored] == [str(i) for i in range(len(steps) + 1)]
    assert [s.node for s in stored] == ["incoming", "consent", "channel_offer", "main", "more",
                                        "case_lookup", "case_lookup", "main", "dial_duty",
                                        "record_complaint", "record_complaint"]
    assert stored[5].digits == "99999"
    assert count(db, Call) == 1 and count(db, Consent) == 1
    assert count(db, Case) == 1 and count(db, Recording) == 1


ENDPOINTS = ["/ivr/incoming", "/ivr/menu?node=main&n=1&r=0", "/ivr/status", "/ivr/missed",
             "/ivr/recorded?node=report&key=1&fb=0&n=3&r=0",
             "/ivr/recording?node=report&key=1&fb=0", "/ivr/dialed?node=main&key=5&fb=0&n=2"]


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize("how", ["missing", "forged", "other_token"])
def test_forged_signature_is_refused_and_writes_nothing(client, db, path, how):
    form = {"CallSid": "CA" + "f" * 32, "From": "+84912345678", "To": "+842400000000",
            "Direction": "inbound", "CallStatus": "completed", "Digits": "1",
            "RecordingSid": "RE" + "f" * 32, "RecordingUrl": "https://api.twilio.com/x",
            "RecordingDuration": "9", "RecordingStatus": "completed"}
    headers = {"missing": {}, "forged": {"X-Twilio-Signature": "Zm9yZ2Vk"},
               "other_token": sign(path, form, token="not-the-token")}[how]
    resp = client.post(path, data=form, headers=headers)
    assert resp.status_code == 403
    for model in (Call, CallStep, Person, Consent, CallbackRequest, Recording, Case):
        assert count(db, model) == 0


def test_a_request_without_call_sid_is_a_clear_400(client, db):
    form = {"From": "+84912345678"}
    assert client.post("/ivr/incoming", data=form,
                       headers=sign("/ivr/incoming", form)).status_code == 400
    assert count(db, Call) == 0


# --------------------------------------------------------------------------------------------
# The hot path: a keypress that only moves through the menu
# --------------------------------------------------------------------------------------------


def test_a_keypress_that_only_moves_is_one_statement(client, db):
    caller = Caller(client).call().press("2")  # consent asked: "2" goes on without consent
    statements: list[str] = []
    connections: list[object] = []
    engine = client.application.extensions["hotline"].engine
    listen = lambda conn, cursor, statement, *args: statements.append(statement)  # noqa: E731
    connected = connections.append
    event.listen(engine, "before_cursor_execute", listen)
    event.listen(engine, "engine_connect", connected)
    try:
        caller.press("1")  # main menu -> information
    finally:
        event.remove(engine, "before_cursor_execute", listen)
        event.remove(engine, "engine_connect", connected)
    assert len(statements) == 1 and statements[0].lstrip().upper().startswith("INSERT")
    # Run on the driver connection (hotline.db.DirectWrite): no SQLAlchemy Connection, no
    # isolation level switched at checkout and back.
    assert connections == []
    steps = db.scalars(select(CallStep.node).order_by(CallStep.id)).all()
    assert steps[-1] == "main" and len(steps) == 3


def statements_of(client, press) -> list[str]:
    """The SQL statements the app issued while ``press()`` ran."""
    statements: list[str] = []
    engine = client.application.extensions["hotline"].engine
    listen = lambda conn, cursor, statement, *args: statements.append(statement)  # noqa: E731
    event.listen(engine, "before_cursor_execute", listen)
    try:
        press()
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    return statements


# On PostgreSQL the consent answer and a keyed case number are one statement each; on
# SQLite (no INSERT/UPDATE inside WITH, and a statement is no round trip) they take the
# session path, whose count is pinned so that it does not grow unnoticed.
ACTING = 1 if BACKEND == "postgresql" else None


def test_the_consent_answer_is_one_statement_and_stored_once(client, db):
    caller = Caller(client).call()
    statements = statements_of(client, lambda: caller.press("1"))
    assert len(statements) == (ACTING or 7)  # SQLite: the session path, her registration too
    assert caller.heard == ["consent_thanks", "channel_offer_ask"]
    db.expire_all()
    assert db.scalar(select(Person.registered_at).where(Person.phone == caller.phone))
    consent = db.scalar(select(Consent))
    assert (consent.channel, consent.answer) == ("voice", "granted")
    assert consent.answered_at is not None and count(db, Consent) == 1
    assert db.scalars(select(CallStep.node).order_by(CallStep.id)).all() == [
        "incoming", "consent"]


def test_a_consent_answer_without_the_voice_question_open_records_it_asked_and_answered(
        client, db):
    """She was asked by SMS meanwhile and the voice question is closed: the voice answer
    comes with its own question, and the SMS one stays open (as ``_ask_once`` +
    ``answer_consent`` did)."""
    caller = Caller(client).call()
    db.execute(update(Consent).values(answer="refused", answered_at=clock.utcnow()))
    me = db.scalar(select(Person).where(Person.phone == caller.phone))
    db.add(Consent(person_id=me.id, purpose="register", question="sms?", channel="sms",
                   asked_at=clock.utcnow() - timedelta(minutes=1)))
    db.commit()
    caller.press("1")
    db.expire_all()
    rows = db.execute(select(Consent.channel, Consent.answer).order_by(Consent.id)).all()
    assert [tuple(r) for r in rows] == [("voice", "refused"), ("sms", None),
                                         ("voice", "granted")]


def test_a_case_number_is_one_statement(client, db):
    now = clock.utcnow()
    caller = agreed(client).press("3").press("1")
    me = db.scalar(select(Person).where(Person.phone == caller.phone))
    mine = cases.open_case(db, now, Outbox(db), person=me, channel="sms", category=5)
    db.commit()
    statements = statements_of(client, lambda: caller.press(str(mine.number)))
    assert len(statements) == (ACTING or 5)
    assert caller.heard == ["case_status_new", "main_menu"]


def test_a_case_number_without_consent_asks_it_once_and_tells_nothing(client, db):
    now = clock.utcnow()
    caller = Caller(client).call().press("2")  # refused
    me = db.scalar(select(Person).where(Person.phone == caller.phone))
    mine = cases.open_case(db, now, Outbox(db), person=me, channel="sms", category=5)
    db.commit()
    caller.press("3").press("1").press(str(mine.number))
    assert caller.heard == ["consent_ask"] and caller.node == "consent"
    assert count(db, Consent) == 2  # asked again by voice, once
    caller.retry()  # Twilio retries the step: the same answer, nothing more written
    assert caller.heard == ["consent_ask"] and count(db, Consent) == 2
    caller.press("1")
    db.expire_all()
    assert db.scalars(select(Consent.answer).order_by(Consent.id)).all() == [
        "refused", "granted"]


def test_a_case_number_of_an_erased_person_is_not_looked_up(client, db):
    now = clock.utcnow()
    caller = agreed(client).press("3").press("1")
    me = db.scalar(select(Person).where(Person.phone == caller.phone))
    mine = cases.open_case(db, now, Outbox(db), person=me, channel="sms", category=5)
    me.erased_at = now
    db.commit()
    caller.press(str(mine.number))
    assert caller.heard == ["consent_refused", "case_enter_number"]


def test_key_9_stores_the_step_with_the_call_and_person_in_one_statement(client, db, duty):
    """Key 9 takes the session path (a case, alerts, the ladder): on PostgreSQL its first
    statement stores the step and loads the call and her person; the whole step is pinned
    (it was 20 statements, 21 with the outbox's NOTIFY; 16 once the ladder was read once
    per request; 7 since the roster is read once and the case, its events and its
    messages are an insert each: ``tests/bench/test_perf_fixes.py``)."""
    caller = agreed(client)
    statements = statements_of(client, lambda: caller.press("9"))
    assert caller.kind == "dial" and count(db, Case) == 1
    # The roster (the ladder among it) is read once: its alerts go to whom she is then put
    # through to.
    assert sum(re.search(r"ORDER BY .*PEOPLE\.DUTY_ORDER", " ".join(s.split()).upper())
               is not None for s in statements) == 1
    if BACKEND == "postgresql":
        first = " ".join(statements[0].split()).upper()
        assert first.startswith("WITH STEP AS (INSERT INTO CALL_STEPS")
        assert "FROM STEP JOIN CALLS" in first and "LEFT OUTER JOIN PEOPLE" in first
        assert statements[-1] == "NOTIFY hotline_outbox"
        assert len(statements) <= 7
    else:
        assert len(statements) <= 9
    # Twilio retries it: the same numbers, nothing opened or queued again.
    queued = count(db, Message)
    caller.retry()
    assert caller.kind == "dial" and count(db, Case) == 1 and count(db, Message) == queued


def test_a_keypress_for_a_call_never_seen_still_stores_the_call(client, db):
    """Its incoming webhook lost (or served by a worker that died): the step creates it."""
    form = {"CallSid": "CA" + "7" * 32, "From": "+84912000777", "To": "+84240000000",
            "Digits": "1", "CallStatus": "in-progress"}
    path = "/ivr/menu?node=main&n=1&r=0"
    resp = client.post(path, data=form, headers=sign(path, form))
    assert resp.status_code == 200 and b"<Gather" in resp.data
    call = db.scalar(select(Call))
    assert call.external_id == form["CallSid"] and call.phone == "+84912000777"
    assert db.scalars(select(CallStep.node).where(CallStep.call_id == call.id)).all() == ["main"]
