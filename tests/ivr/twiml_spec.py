"""What Twilio documents of the TwiML voice verbs the line uses, and of the Calls resource.

One ``Verb`` per element: its documented attributes with the values (or value shapes) Twilio
allows, which elements it may hold, and whether it takes text. Written from Twilio's own
TwiML reference (the page is named per verb) and checked against the names the twilio
library's ``twilio.twiml.voice_response`` classes give in their docstrings. Only what the
docs say is allowed here: an attribute or a nesting that is not in this table is one the
line must not send.

``problems(xml)`` lists everything in a TwiML document that the table does not allow;
``urls(xml)`` the URLs in it (with the HTTP method Twilio will use), for the caller to check
against the routes the app serves. ``call_problems(form)`` does the same for the parameters
of a Calls resource create request (``client.calls.create``).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

Check = Callable[[str], bool]


def one_of(*allowed: str) -> Check:
    return lambda value: value in allowed


def integer(low: int, high: int | None = None) -> Check:
    def check(value: str) -> bool:
        if not (value.isascii() and value.isdigit()):
            return False
        return int(value) >= low and (high is None or int(value) <= high)

    return check


def words_of(*allowed: str) -> Check:
    """A space-separated list of some of ``allowed`` (no repeats, at least one)."""
    def check(value: str) -> bool:
        parts = value.split(" ")
        return bool(parts) and len(set(parts)) == len(parts) and set(parts) <= set(allowed)

    return check


def url(value: str) -> bool:
    """Twilio takes absolute or relative URLs; the line sends absolute https ones only."""
    return bool(re.fullmatch(r"https://[^\s/]+/\S*", value)) or value.startswith("/")


BOOL = one_of("true", "false")
METHOD = one_of("GET", "POST")
KEY = re.compile(r"[0-9#*]")
# <Say voice>: "man", "woman", a Polly voice ("Polly.Amy", "Polly.Joanna-Neural") or a Google
# voice ("Google.en-GB-Standard-A", "Google.vi-VN-Wavenet-B"): Twilio's TTS voice list.
VOICE = re.compile(r"man|woman|Polly\.[A-Z][a-z]+(-Neural|-Generative|-LongForm)?|"
                   r"Google\.[a-z]{2,3}-[A-Z]{2}-(Standard|Wavenet|Neural2|Chirp3-HD|Chirp-HD)"
                   r"-[A-Za-z]+")
LANGUAGE = re.compile(r"[a-z]{2,3}-[A-Z]{2}")  # BCP-47 with a region: vi-VN, en-US
# The languages the default voices ("man", the default, and "woman") speak; any other
# language needs a voice that speaks it ("an invalid combination of voice and language may
# result in error and <Say> instruction failure").
MAN_WOMAN_LANGUAGES = frozenset({"en-US", "en-GB", "es-ES", "fr-FR", "de-DE"})
PHONE = re.compile(r"\+?[0-9]{3,15}")  # E.164, or a short national number (113)


@dataclass(frozen=True)
class Verb:
    doc: str  # Twilio's reference page
    attrs: Mapping[str, Check] = field(default_factory=dict)
    children: frozenset[str] = frozenset()
    text: Check | None = None  # None: takes no text
    url_attrs: tuple[str, ...] = ()  # attributes that hold a URL Twilio requests
    text_is_url: bool = False
    max_text: int | None = None


PROMPTS = frozenset({"Say", "Play", "Pause"})

VERBS: dict[str, Verb] = {
    # https://www.twilio.com/docs/voice/twiml : a document is one <Response> holding verbs.
    "Response": Verb(
        "https://www.twilio.com/docs/voice/twiml",
        children=frozenset({"Say", "Play", "Pause", "Gather", "Record", "Dial", "Redirect",
                            "Hangup", "Reject"}),
    ),
    # Attributes: language (a supported locale), loop (an integer >= 0), voice (man, woman, a
    # Polly or a Google voice); the text is what is said, at most 4,096 characters.
    "Say": Verb(
        "https://www.twilio.com/docs/voice/twiml/say",
        {"language": lambda v: bool(LANGUAGE.fullmatch(v)),
         "voice": lambda v: bool(VOICE.fullmatch(v)),
         "loop": integer(0)},
        text=lambda v: bool(v.strip()), max_text=4096,
    ),
    # Attributes: loop (an integer >= 0), digits (DTMF: 0-9, A-D, W, w, #, *); the text is the
    # URL of the audio file, served as one of ``PLAY_TYPES``.
    "Play": Verb(
        "https://www.twilio.com/docs/voice/twiml/play",
        {"loop": integer(0), "digits": lambda v: bool(re.fullmatch(r"[0-9A-DWw#*]+", v))},
        text=url, text_is_url=True,
    ),
    # Attribute: length, seconds, a positive integer (default 1). No text, nothing nested.
    "Pause": Verb("https://www.twilio.com/docs/voice/twiml/pause", {"length": integer(1)}),
    # Attributes (DTMF use): action (URL), method (GET, POST), timeout (a positive integer,
    # seconds), numDigits (a positive integer), finishOnKey (0-9, #, * or '' for none), input
    # (dtmf, speech, "dtmf speech"), actionOnEmptyResult (true, false), language.
    # Nested: <Say>, <Play>, <Pause> only.
    "Gather": Verb(
        "https://www.twilio.com/docs/voice/twiml/gather",
        {"action": url, "method": METHOD, "timeout": integer(1), "numDigits": integer(1),
         "finishOnKey": lambda v: v == "" or bool(KEY.fullmatch(v)),
         "input": one_of("dtmf", "speech", "dtmf speech", "speech dtmf"),
         "actionOnEmptyResult": BOOL, "language": lambda v: bool(LANGUAGE.fullmatch(v))},
        children=PROMPTS, url_attrs=("action",),
    ),
    # Attributes: action (URL), method, timeout (seconds of silence, an integer >= 0),
    # finishOnKey (a set of digits, #, *), maxLength (seconds, an integer > 1), playBeep (true,
    # false), trim (trim-silence, do-not-trim), recordingStatusCallback (URL),
    # recordingStatusCallbackMethod, recordingStatusCallbackEvent (space-separated:
    # in-progress, completed, absent), transcribe (true, false). Nothing nested.
    "Record": Verb(
        "https://www.twilio.com/docs/voice/twiml/record",
        {"action": url, "method": METHOD, "timeout": integer(0),
         "finishOnKey": lambda v: bool(re.fullmatch(r"[0-9#*]+", v)),
         "maxLength": integer(2), "playBeep": BOOL, "trim": one_of("trim-silence", "do-not-trim"),
         "recordingStatusCallback": url, "recordingStatusCallbackMethod": METHOD,
         "recordingStatusCallbackEvent": words_of("in-progress", "completed", "absent"),
         "transcribe": BOOL},
        url_attrs=("action", "recordingStatusCallback"),
    ),
    # Attributes: action (URL), method, timeout (seconds, 5-600, default 30), callerId,
    # hangupOnStar, timeLimit (seconds), answerOnBridge (true, false), record. Nested: the
    # nouns <Number>, <Client>, <Sip>, <Conference>, <Queue>, or a number as text.
    "Dial": Verb(
        "https://www.twilio.com/docs/voice/twiml/dial",
        {"action": url, "method": METHOD, "timeout": integer(5, 600),
         "callerId": lambda v: bool(PHONE.fullmatch(v)), "hangupOnStar": BOOL,
         "timeLimit": integer(1), "answerOnBridge": BOOL,
         "record": one_of("do-not-record", "record-from-answer", "record-from-ringing",
                          "record-from-answer-dual", "record-from-ringing-dual")},
        children=frozenset({"Number", "Client", "Sip", "Conference", "Queue"}),
        text=lambda v: not v.strip() or bool(PHONE.fullmatch(v.strip())),
        url_attrs=("action",),
    ),
    # <Dial><Number>: the text is the phone number; attributes sendDigits, url, method,
    # statusCallback, statusCallbackEvent, statusCallbackMethod.
    "Number": Verb(
        "https://www.twilio.com/docs/voice/twiml/number",
        {"sendDigits": lambda v: bool(re.fullmatch(r"[0-9#*w]+", v)), "url": url,
         "method": METHOD, "statusCallback": url, "statusCallbackMethod": METHOD,
         "statusCallbackEvent": words_of("initiated", "ringing", "answered", "completed")},
        text=lambda v: bool(PHONE.fullmatch(v)), url_attrs=("url", "statusCallback"),
    ),
    # Attribute: method (GET, POST; default POST); the text is the URL.
    "Redirect": Verb("https://www.twilio.com/docs/voice/twiml/redirect", {"method": METHOD},
                     text=url, text_is_url=True),
    # No attributes, nothing nested.
    "Hangup": Verb("https://www.twilio.com/docs/voice/twiml/hangup"),
    # Attribute: reason (rejected, busy). Nothing nested.
    "Reject": Verb("https://www.twilio.com/docs/voice/twiml/reject",
                   {"reason": one_of("rejected", "busy")}),
}


# The Content-Types <Play> plays (any other fails the verb: Twilio error 13420).
PLAY_TYPES = frozenset({"audio/mpeg", "audio/wav", "audio/wave", "audio/x-wav", "audio/aiff",
                        "audio/x-aifc", "audio/x-aiff", "audio/x-gsm", "audio/gsm",
                        "audio/ulaw"})


def problems(xml: str | bytes) -> list[str]:
    """Everything in the TwiML document ``xml`` that Twilio does not document."""
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as exc:
        return [f"not XML: {exc}"]
    if root.tag != "Response":
        return [f"the root is <{root.tag}>, not <Response>"]
    found: list[str] = []

    def visit(el: ET.Element, parent: str | None) -> None:
        verb = VERBS.get(el.tag)
        if verb is None:
            found.append(f"<{el.tag}> is not in the table")
            return
        if parent is not None and el.tag not in VERBS[parent].children:
            found.append(f"<{el.tag}> inside <{parent}>: not documented ({VERBS[parent].doc})")
        for name, value in el.attrib.items():
            check = verb.attrs.get(name)
            if check is None:
                found.append(f"<{el.tag} {name}>: not an attribute Twilio documents ({verb.doc})")
            elif not check(value):
                found.append(f"<{el.tag} {name}={value!r}>: not an allowed value ({verb.doc})")
        text = el.text or ""
        if verb.text is None:
            if text.strip():
                found.append(f"<{el.tag}> takes no text, has {text.strip()[:40]!r}")
        elif not verb.text(text) and not (el.tag == "Dial" and len(el)):
            found.append(f"<{el.tag}> text {text[:60]!r} is not what it takes ({verb.doc})")
        if verb.max_text is not None and len(text) > verb.max_text:
            found.append(f"<{el.tag}> text of {len(text)} characters, at most {verb.max_text}")
        for child in el:
            if (child.tail or "").strip():
                found.append(f"text {child.tail.strip()[:40]!r} after <{child.tag}>")
            visit(child, el.tag)

    visit(root, None)
    for say in root.iter("Say"):
        found += _voice_problems(say)
    return found


def _voice_problems(say: ET.Element) -> list[str]:
    """<Say>: the voice must speak the language (docs: voice and language combinations)."""
    voice, language = say.get("voice", "man"), say.get("language", "en-US")
    if voice in ("man", "woman") and language not in MAN_WOMAN_LANGUAGES:
        return [f"<Say language={language!r}> with the voice {voice!r}"
                f"{'' if 'voice' in say.attrib else ' (the default)'}, which does not speak "
                f"it ({VERBS['Say'].doc})"]
    if voice.startswith("Google.") and voice.split(".", 1)[1][:len(language)] != language:
        return [f"<Say voice={voice!r} language={language!r}>: another language"]
    return []


def urls(xml: str | bytes) -> list[tuple[str, str, str]]:
    """(where, url, method) of every URL Twilio will request from the document: a <Play>'s
    file (GET), an action or a <Redirect> (their method, POST by default), a callback."""
    found = []
    for el in ET.fromstring(xml).iter():
        verb = VERBS.get(el.tag)
        if verb is None:
            continue
        if verb.text_is_url and el.text:
            method = "GET" if el.tag == "Play" else el.get("method", "POST")
            found.append((el.tag, el.text, method))
        for name in verb.url_attrs:
            if el.get(name) is not None:
                method_attr = "recordingStatusCallbackMethod" if name.startswith("recording") \
                    else "method"
                found.append((f"{el.tag} {name}", el.get(name), el.get(method_attr, "POST")))
    return found


# --------------------------------------------------------------------------------------------
# The Calls resource: POST /2010-04-01/Accounts/{AccountSid}/Calls.json
# https://www.twilio.com/docs/voice/api/call-resource#create-a-call-resource
# https://www.twilio.com/docs/voice/answering-machine-detection (MachineDetection and tuning)
# --------------------------------------------------------------------------------------------

CALL_PARAMS: dict[str, Check] = {
    "To": lambda v: bool(PHONE.fullmatch(v)),
    "From": lambda v: bool(PHONE.fullmatch(v)),
    "Url": url,
    "Method": METHOD,
    "FallbackUrl": url,
    "FallbackMethod": METHOD,
    "StatusCallback": url,
    "StatusCallbackMethod": METHOD,
    # One parameter per event (repeated), each one of these four.
    "StatusCallbackEvent": one_of("initiated", "ringing", "answered", "completed"),
    "SendDigits": lambda v: bool(re.fullmatch(r"[0-9#*w]+", v)),
    # Seconds to let the phone ring: 5 to 600 (default 60).
    "Timeout": integer(5, 600),
    "TimeLimit": integer(1),
    "Record": BOOL,
    "MachineDetection": one_of("Enable", "DetectMessageEnd"),
    "MachineDetectionTimeout": integer(3, 59),
    "MachineDetectionSpeechThreshold": integer(1000, 6000),
    "MachineDetectionSpeechEndThreshold": integer(500, 5000),
    "MachineDetectionSilenceTimeout": integer(2000, 10000),
    "AsyncAmd": BOOL,
    "AsyncAmdStatusCallback": url,
    "AsyncAmdStatusCallbackMethod": METHOD,
    "CallerId": lambda v: bool(PHONE.fullmatch(v)),
}
# Parameters whose value is a URL Twilio requests, with the parameter naming its method.
CALL_URLS = {"Url": "Method", "FallbackUrl": "FallbackMethod",
             "StatusCallback": "StatusCallbackMethod",
             "AsyncAmdStatusCallback": "AsyncAmdStatusCallbackMethod"}


def call_problems(form_lists: Mapping[str, list[str]]) -> list[str]:
    """Everything in a Calls create request (its form, each name with all its values) that
    the Calls resource does not document."""
    found = []
    for name in ("To", "From"):
        if name not in form_lists:
            found.append(f"{name} is required")
    if "Url" not in form_lists and "Twiml" not in form_lists:
        found.append("Url (or Twiml) is required")
    for name, values in form_lists.items():
        check = CALL_PARAMS.get(name)
        if check is None:
            found.append(f"{name}: not a Calls parameter")
            continue
        if name != "StatusCallbackEvent" and len(values) != 1:
            found.append(f"{name} given {len(values)} times")
        for value in values:
            if not check(value):
                found.append(f"{name}={value!r}: not an allowed value")
    if "MachineDetectionTimeout" in form_lists and "MachineDetection" not in form_lists:
        found.append("MachineDetectionTimeout without MachineDetection")
    if "StatusCallbackEvent" in form_lists and "StatusCallback" not in form_lists:
        found.append("StatusCallbackEvent without StatusCallback")
    return found
