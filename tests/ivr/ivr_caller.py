"""A scripted caller for the IVR tests: follows the TwiML it gets, as Twilio would.

Each answer is parsed with ElementTree and checked to end well: a <Gather> or <Record> with a
<Redirect> to the same step after it, a <Dial> with an action, a <Reject>, or a kind goodbye
and <Hangup>. Every URL must be absolute under the public URL. ``heard`` collects the prompt
keys the caller heard (from <Say> texts or <Play> file names), and "said:<text>" for data
read out with <Say>.
"""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

from twilio.request_validator import RequestValidator

from audio.prompts import catalogue_at
from audio.render import SAY_LANGUAGE, SAY_VOICE
from hotline import clock
from tests.conftest import AUTH_TOKEN, PUBLIC_URL

_sids = itertools.count(1)
_phones = itertools.count(1)
PROMPT_VERBS = ("Say", "Play", "Pause")
ACCOUNT = "AC" + "0" * 32


def fresh_phone() -> str:
    return f"+8497{next(_phones):07d}"


def fresh_sid(prefix: str = "CA") -> str:
    return f"{prefix}{next(_sids):032x}"


def sign(path: str, form: dict, token: str = AUTH_TOKEN) -> dict:
    return {"X-Twilio-Signature": RequestValidator(token).compute_signature(PUBLIC_URL + path,
                                                                            form)}


def path_of(url: str) -> str:
    """``https://hotline.example.org/ivr/menu?x=1`` -> ``/ivr/menu?x=1`` (must be ours)."""
    assert url.startswith(PUBLIC_URL + "/ivr/"), url
    return url[len(PUBLIC_URL):]


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def prompt_keys() -> dict[str, str]:
    """Spoken text -> prompt key, for today's catalogue (texts are unique)."""
    catalogue = catalogue_at(clock.utcnow())
    reverse = {text: key for key, text in catalogue.items()}
    assert len(reverse) == len(catalogue), "two prompts share a text"
    return reverse


def check_twiml(root: ET.Element, texts: dict[str, str]) -> list[str]:
    """Assert the answer ends well; return the prompt keys it plays, in order."""
    assert root.tag == "Response"
    verbs = list(root)
    assert verbs, "empty answer: the call would just end"
    heard: list[str] = []

    def prompts(elements) -> None:
        for el in elements:
            assert el.tag in PROMPT_VERBS, f"unexpected <{el.tag}> among prompts"
            if el.tag == "Say":
                assert el.get("language") == SAY_LANGUAGE and el.get("voice") == SAY_VOICE
                # A text not in the catalogue is data read out (a place, a group's name):
                # heard as "said:<text>", so a test must name it to pass.
                heard.append(texts.get(el.text, f"said:{el.text}"))
            elif el.tag == "Play":
                name = path_of(el.text).removeprefix("/ivr/audio/")
                stem = name.rsplit(".", 1)[0]
                heard.append(stem.rsplit("-", 1)[0] if "-" in stem else stem)

    last = verbs[-1]
    if last.tag == "Redirect":
        assert len(verbs) >= 2, "a bare redirect"
        waiting = verbs[-2]
        assert waiting.tag in ("Gather", "Record"), f"<Redirect> after <{waiting.tag}>"
        assert waiting.get("action") == last.text, "silence must come back to the same step"
        assert last.get("method", "POST") == "POST" and waiting.get("method") == "POST"
        path_of(last.text)
        prompts(verbs[:-2])
        if waiting.tag == "Gather":
            prompts(list(waiting))
            assert int(waiting.get("numDigits")) >= 1 and int(waiting.get("timeout")) > 0
        else:
            assert list(waiting) == []
            assert int(waiting.get("maxLength")) > 0 and waiting.get("finishOnKey") == "#"
            path_of(waiting.get("recordingStatusCallback"))
    elif last.tag == "Dial":
        path_of(last.get("action"))
        assert int(last.get("timeout")) > 0
        numbers = [n.text for n in last]
        assert numbers and all(n.tag == "Number" for n in last)
        prompts(verbs[:-1])
    elif last.tag == "Hangup":
        prompts(verbs[:-1])
        assert heard and heard[-1] in ("goodbye", "notice_goodbye"), \
            "hang up only after a kind goodbye"
    elif last.tag == "Reject":
        assert len(verbs) == 1
    else:
        raise AssertionError(f"answer ends with <{last.tag}>: a dead end")
    return heard


@dataclass
class Caller:
    """One phone call. ``client`` is the Flask test client."""

    client: object
    phone: str = field(default_factory=fresh_phone)
    sid: str = field(default_factory=fresh_sid)
    outbound: bool = False
    texts: dict[str, str] = field(default_factory=prompt_keys)
    heard: list[str] = field(default_factory=list)
    root: ET.Element | None = None
    requests: int = 0
    last_path: str = ""
    last_form: dict = field(default_factory=dict)
    recording_status: tuple[str, dict] | None = None

    # -- plumbing ------------------------------------------------------------------------

    def form(self, **extra) -> dict:
        ours = "+842400000000"
        base = {"CallSid": self.sid, "AccountSid": ACCOUNT, "CallStatus": "in-progress",
                "From": ours if self.outbound else self.phone,
                "To": self.phone if self.outbound else ours,
                "Direction": "outbound-api" if self.outbound else "inbound"}
        base.update({k: str(v) for k, v in extra.items() if v is not None})
        return base

    def post(self, path: str, form: dict, *, expect_twiml: bool = True):
        self.last_path, self.last_form = path, form
        resp = self.client.post(path, data=form, headers=sign(path, form))
        self.requests += 1
        assert resp.status_code in (200, 204), (path, resp.status_code, resp.data[:300])
        if not expect_twiml:
            return resp
        assert resp.mimetype == "text/xml", resp.mimetype
        self.root = ET.fromstring(resp.data)
        self.heard = check_twiml(self.root, self.texts)
        return resp

    def retry(self):
        """Send the last request again, as Twilio does when an answer is late."""
        return self.post(self.last_path, self.last_form)

    @property
    def verbs(self) -> list[ET.Element]:
        return list(self.root)

    @property
    def last(self) -> ET.Element:
        return self.verbs[-1]

    @property
    def kind(self) -> str:
        """gather / record / dial / hangup / reject: what the call waits for now."""
        last = self.last
        if last.tag == "Redirect":
            return self.verbs[-2].tag.lower()
        return last.tag.lower()

    @property
    def waiting(self) -> ET.Element:
        assert self.kind in ("gather", "record"), self.kind
        return self.verbs[-2]

    @property
    def node(self) -> str | None:
        return query(self.waiting.get("action")).get("node") if self.kind == "gather" else None

    @property
    def state(self) -> str:
        """Where the call is, without the step counter: equal states behave the same."""
        if self.kind in ("hangup", "reject"):
            return self.kind
        url = self.waiting.get("action") if self.kind != "dial" else self.last.get("action")
        params = {k: v for k, v in sorted(query(url).items()) if k != "n"}
        return f"{self.kind} {urlsplit(url).path} {params}"

    # -- what a caller does --------------------------------------------------------------

    def call(self, callback_id: int | None = None) -> Caller:
        path = "/ivr/incoming" + (f"?callback={callback_id}" if callback_id else "")
        self.post(path, self.form(CallStatus="ringing"))
        return self

    def press(self, digits: str) -> Caller:
        assert self.kind == "gather", self.kind
        self.post(path_of(self.waiting.get("action")), self.form(Digits=digits))
        return self

    def agree(self, channel: str | None = None) -> Caller:
        """Agree to the consent question ('1'), then answer the question asked once after
        it, how she is told: '1' by calls, '2' by SMS, None no key (SMS kept)."""
        self.press("1")
        assert self.node == "channel_offer", self.heard
        return self.press(channel) if channel else self.silence()

    def silence(self) -> Caller:
        assert self.kind in ("gather", "record"), self.kind
        self.post(path_of(self.last.text), self.form())
        return self

    def speak(self, recording_sid: str | None = None, duration: int = 7,
              status_callback: bool = True) -> Caller:
        """Say something after the beep and press '#'; Twilio posts the action, then (by
        default) the recording status callback."""
        assert self.kind == "record", self.kind
        record = self.waiting
        recording_sid = recording_sid or fresh_sid("RE")
        media = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Recordings/{recording_sid}"
        status_path = path_of(record.get("recordingStatusCallback"))
        self.post(path_of(record.get("action")), self.form(
            RecordingSid=recording_sid, RecordingUrl=media, RecordingDuration=duration, Digits="#"))
        self.recording_status = (status_path, {
            "AccountSid": ACCOUNT, "CallSid": self.sid, "RecordingSid": recording_sid,
            "RecordingUrl": media, "RecordingStatus": "completed",
            "RecordingDuration": str(duration), "RecordingChannels": "1",
            "RecordingSource": "RecordVerb",
        })
        if status_callback:
            self.send_recording_status()
        return self

    def send_recording_status(self):
        path, form = self.recording_status
        resp = self.client.post(path, data=form, headers=sign(path, form))
        assert resp.status_code == 204, resp.status_code
        return resp

    def dial_ends(self, status: str = "no-answer") -> Caller:
        assert self.kind == "dial", self.kind
        self.post(path_of(self.last.get("action")), self.form(DialCallStatus=status))
        return self

    def hang_up(self, duration: int = 42) -> None:
        """Twilio's final status callback for this call."""
        form = self.form(CallStatus="completed", CallDuration=duration)
        resp = self.client.post("/ivr/status", data=form, headers=sign("/ivr/status", form))
        assert resp.status_code == 204

    def do(self, action: tuple) -> Caller:
        """Replay one recorded action: ("press", "1"), ("silence",), ("speak",), ("dial", s)."""
        name, *args = action
        if name == "press":
            return self.press(*args)
        if name == "silence":
            return self.silence()
        if name == "speak":
            return self.speak()
        if name == "dial":
            return self.dial_ends(*args)
        raise ValueError(name)
