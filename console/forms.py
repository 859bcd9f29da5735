"""Console input: one form class per thing a page posts (microblog's forms.py is the model).

A form only parses and bounds what a browser sent: whole numbers the database's 32-bit columns
hold, dates in the line's years, text without NUL or control characters, choices from a closed
list. The rules (who may, what is allowed) stay in the services, which take the parsed values
as plain typed arguments. ``parse`` raises ``FormInvalid`` (a ``ServiceError``) with the first
bad field's message, already translated: the views flash it and go back to the page.

The templates write their own inputs; the field names here are the names they post.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, time

from flask import request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from werkzeug.datastructures import CombinedMultiDict
from wtforms import Field
from wtforms.validators import StopValidation, ValidationError

from console.i18n import LOCALES
from hotline.categories import Category
from hotline.models import CaseStatus, NotifyChannel, StaffRole
from hotline.models.voice import ISSUE_STATUSES, PARTICIPANT_KINDS, TONES
from hotline.queries.callbacks import STATUSES as CALLBACK_STATUSES
from hotline.services import monitoring
from hotline.services.case_actions import CLOSE_STATUSES
from hotline.services.errors import ServiceError
from hotline.services.meetings import SERIES_KINDS, SERIES_NTH
from hotline.services.reports import DIMENSIONS, ReportQuery

# Dates the console accepts: the line's years, not year 1 or 9999 (whose UTC instant or
# next period would overflow). Integers: what the database's 32-bit columns hold.
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2100, 12, 31)
INT_MIN, INT_MAX = -(2**31), 2**31 - 1
_ASCII_INT = re.compile(r"[+-]?[0-9]{1,10}")
# Bidirectional overrides and isolates: they make a name or a note display as something else.
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


class FormInvalid(ServiceError):
    """A value the form refuses; ``str(exc)`` is the translated message for the user."""


class Form(FlaskForm):
    """A console form. CSRF is checked for every console POST by CSRFProtect already."""

    class Meta:
        csrf = False

    def values(self) -> dict:
        """The parsed values as the service's keywords (a form may regroup them)."""
        return self.data


def submitted():
    """What the request sent: its form and files on POST, else its query string."""
    if request.method == "POST":
        return CombinedMultiDict((request.files, request.form))
    return request.args


def parse(form_class: type[Form], source=None) -> Form:
    """``form_class`` filled from ``source`` (``submitted()`` unless given) and validated;
    the first bad value raises ``FormInvalid``."""
    form = form_class(formdata=submitted() if source is None else source)
    if not form.validate():
        raise FormInvalid(first_error(form))
    return form


def lenient(form_class: type[Form], source=None) -> Form:
    """A filter form from the query string: a bad value counts as not given (the field's
    default), as a filter left empty would."""
    form = form_class(formdata=source if source is not None else request.args)
    form.validate()
    form.refused = first_error(form) if form.errors else None
    for field in form:
        if field.errors:
            field.process(None)  # back to its default, as if not sent
            field.errors = []
    return form


def first_error(form: Form) -> str:
    for field in form:
        if field.errors:
            return str(field.errors[0])
    return _("Check the form.")


def _label(field: Field) -> str:
    return str(field.label.text)


def _first(valuelist: list) -> str:
    return valuelist[0] if valuelist and isinstance(valuelist[0], str) else ""


def has_controls(text: str, multiline: bool = False) -> bool:
    """NUL, escape and other control characters, or bidirectional overrides (a line break
    and a tab are fine in a multi-line note)."""
    allowed = "\n\r\t" if multiline else ""
    return any((unicodedata.category(c) == "Cc" and c not in allowed) or c in _BIDI
               for c in text)


class Text(Field):
    """Text stripped (unless ``strip`` is off) and cut to ``limit`` characters (as the
    columns hold); control characters are refused."""

    def __init__(self, label=None, validators=None, *, limit: int = 2000,
                 multiline: bool = False, strip: bool = True, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.limit, self.multiline, self.strip = limit, multiline, strip

    def process_data(self, value):
        self.data = value or ""

    def process_formdata(self, valuelist):
        if valuelist:
            raw = _first(valuelist)
            self.data = (raw.strip() if self.strip else raw)[:self.limit]

    def pre_validate(self, form):
        if has_controls(self.data, self.multiline):
            raise StopValidation(_("%(label)s: remove the control characters.",
                                   label=_label(self)))


class Raw(Field):
    """A value exactly as typed (not stripped, not cut), for a password or a sign-in: the
    service that reads it judges it."""

    def process_data(self, value):
        self.data = value or ""

    def process_formdata(self, valuelist):
        if valuelist:
            self.data = _first(valuelist)


class Int(Field):
    """A whole number in ASCII digits between ``low`` and ``high``; empty is the default
    (None unless given). ``message`` (a message id) replaces the generic refusal, as for
    the id of a row chosen from a list."""

    def __init__(self, label=None, validators=None, *, low: int = INT_MIN, high: int = INT_MAX,
                 message: str | None = None, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.low, self.high, self.message = low, high, message

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        raw = _first(valuelist).strip()
        if not raw:
            return  # empty keeps the default
        self.data = None
        if not _ASCII_INT.fullmatch(raw) or not self.low <= int(raw) <= self.high:
            raise ValueError(_(self.message) if self.message else
                             _("%(label)s: a whole number from %(low)s to %(high)s.",
                               label=_label(self), low=self.low, high=self.high))
        self.data = int(raw)


class Day(Field):
    """A date (YYYY-MM-DD) between FIRST_DAY and LAST_DAY; empty is None. ``message`` (a
    message id) replaces the generic refusal."""

    def __init__(self, label=None, validators=None, *, message: str | None = None, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.message = message

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        raw = _first(valuelist).strip()
        self.data = None
        if not raw:
            return
        try:
            day = date.fromisoformat(raw) if raw.isascii() else None
        except ValueError:
            day = None
        if day is None or not FIRST_DAY <= day <= LAST_DAY:
            raise ValueError(_(self.message) if self.message else
                             _("%(label)s: a date from %(first)s to %(last)s.",
                               label=_label(self), first=FIRST_DAY.isoformat(),
                               last=LAST_DAY.isoformat()))
        self.data = day


class Moment(Field):
    """A local date and time (a datetime-local input, YYYY-MM-DDTHH:MM) on a day between
    FIRST_DAY and LAST_DAY; empty is None."""

    def process_formdata(self, valuelist):
        raw = _first(valuelist).strip()
        if not raw:
            return
        try:
            moment = datetime.fromisoformat(raw) if raw.isascii() and len(raw) <= 19 else None
        except ValueError:
            moment = None
        if moment is None or moment.tzinfo is not None \
                or not FIRST_DAY <= moment.date() <= LAST_DAY:
            raise ValueError(_("%(label)s: a date from %(first)s to %(last)s.",
                               label=_label(self), first=FIRST_DAY.isoformat(),
                               last=LAST_DAY.isoformat()))
        self.data = moment.replace(second=0, microsecond=0)


class Clock(Field):
    """A time of day (HH:MM), to the minute; empty is the field's default."""

    def __init__(self, label=None, validators=None, *, message: str | None = None, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.message = message

    def process_formdata(self, valuelist):
        raw = _first(valuelist).strip()
        if not raw:
            return
        try:
            self.data = time.fromisoformat(raw) if raw.isascii() and len(raw) <= 8 else None
        except ValueError:
            self.data = None
        if self.data is not None:
            self.data = self.data.replace(second=0, microsecond=0, tzinfo=None)
            return
        raise ValueError(_(self.message) if self.message else
                         _("%(label)s: a time of day such as 15:00.", label=_label(self)))


class Ints(Field):
    """The whole numbers a multiple choice posts (checkboxes, a multi-select); a value that
    is not one is refused."""

    def process_data(self, value):
        self.data = list(value or [])

    def process_formdata(self, valuelist):
        raw = [v.strip() for v in valuelist if isinstance(v, str) and v.strip()]
        if any(not _ASCII_INT.fullmatch(v) or not INT_MIN <= int(v) <= INT_MAX for v in raw):
            self.data = []
            raise ValueError(_("%(label)s: a whole number from %(low)s to %(high)s.",
                               label=_label(self), low=INT_MIN, high=INT_MAX))
        self.data = [int(v) for v in raw]


class Many(Field):
    """The words a multiple choice posts, each stripped and cut to ``limit``; the service
    keeps the ones it knows."""

    def __init__(self, label=None, validators=None, *, limit: int = 60, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.limit = limit

    def process_data(self, value):
        self.data = list(value or [])

    def process_formdata(self, valuelist):
        self.data = [v.strip()[:self.limit] for v in valuelist if isinstance(v, str)]

    def pre_validate(self, form):
        if any(has_controls(v) for v in self.data):
            raise StopValidation(_("%(label)s: remove the control characters.",
                                   label=_label(self)))


class Flag(Field):
    """A yes/no the pages post as "1"; missing keeps the default, anything else is no."""

    def process_data(self, value):
        self.data = bool(value)

    def process_formdata(self, valuelist):
        if valuelist:
            self.data = _first(valuelist) == "1"


class Choice(Text):
    """One value of a closed list, made a ``coerce`` (empty is the default unless the field
    is required). ``message`` is the message id shown for any other value."""

    def __init__(self, label=None, validators=None, *, choices=(), coerce=str,
                 message: str | None = None, **kwargs):
        super().__init__(label, validators, limit=60, **kwargs)
        self.choices, self.coerce, self.message = choices, coerce, message

    def process_data(self, value):
        self.data = value

    def pre_validate(self, form):
        if self.data is None or self.data == "":
            self.data = self.default
            return
        if str(self.data) not in {str(c) for c in self.choices}:
            raise StopValidation(_(self.message) if self.message else
                                 _("%(label)s: choose one of the options.", label=_label(self)))
        self.data = self.coerce(self.data)


class Required:
    """The field must have a value (a refused value already has its own message)."""

    def __init__(self, message: str | None = None):
        self.message = message

    def __call__(self, form, field):
        if field.errors:
            raise StopValidation()
        if field.data is None or field.data == "":
            raise ValidationError(_(self.message) if self.message else
                                  _("%(label)s: required.", label=_label(field)))


Password = Raw


# ---- switches, confirmations and page filters ----------------------------------------------
# Filters come from the query string and are read with ``lenient``: a bad value is as if it
# was not given. A confirmation or a roll is posted and read with ``parse``.

class LanguageForm(Form):
    lang = Choice("lang", choices=LOCALES, default=None)
    next = Raw("next")  # a path inside the console, checked by auth.safe_next


class ConfirmForm(Form):
    """The box ticked on a second page before a step that cannot be undone (leaving a group,
    an erasure): only "1" confirms."""

    confirm = Flag("confirm", default=False)


class PageForm(Form):
    page = Int(_l("Page"), low=1, default=1)


class ProvidersPageForm(Form):
    edit = Int(_l("Edit"), low=1)  # the service whose edit form is open


class ExportForm(Form):
    phones = Flag(_l("Show phone numbers"), default=False)


class PeopleSearchForm(Form):
    """The people search, and the search for the other record of a merge."""

    q = Text(_l("Search"), limit=80)
    group_id = Int(_l("Group"), name="group", low=1)
    other = Int(_l("The other record"), low=1)


class CallbackFilterForm(Form):
    status = Choice(_l("Status"), choices=CALLBACK_STATUSES, default="")


class AuditFilterForm(Form):
    action = Text(_l("Action"), limit=40)
    user = Text(_l("User"), limit=40)
    object_type = Text(_l("Object"), limit=40)
    object_id = Text(_l("Id"), limit=40)


class PeriodForm(Form):
    """A page's period (``from`` / ``to``, the last 90 days by default) in an optional ward."""

    first = Day(_l("From"), name="from")
    last = Day(_l("To"), name="to")
    ward = Text(_l("Ward"), limit=60)

    def query(self, today: date, **extra) -> ReportQuery:
        """The period asked for; its days the other way round when given so."""
        default = ReportQuery.default(today)
        first, last = self.first.data or default.first_day, self.last.data or default.last_day
        if last < first:
            first, last = last, first
        return ReportQuery(first, last, ward=self.ward.data or None, **extra)


class ReportFilterForm(PeriodForm):
    by = Choice(_l("Break down by"), choices=DIMENSIONS, default=None)

    def query(self, today: date, **extra) -> ReportQuery:
        return super().query(today, by=self.by.data, **extra)


class ProviderReportForm(PeriodForm):
    provider = Int(_l("Service"), low=1)  # the row to highlight


class IssueFilterForm(Form):
    status = Choice(_l("Status"), choices=ISSUE_STATUSES, default=None)


class PressFilterForm(Form):
    """The press list's filters (see ``queries.voice.PressFilters``)."""

    first = Day(_l("From"), name="from")
    last = Day(_l("To"), name="to")
    category = Int(_l("Category"))
    issue_id = Int(_l("Issue"), name="issue", low=1)
    tone = Choice(_l("Tone"), choices=TONES, default=None)
    outlet = Text(_l("Outlet"), limit=120)


class SimulatorForm(Form):
    """What the phone simulator's page posts (a flat JSON object, or a form with the
    recording): a text to the line, a call step, a callback answered."""

    phone = Text(_l("Phone"), limit=40)
    body = Text(_l("Message"), limit=1600, multiline=True, strip=False)  # as typed, like an SMS
    kind = Text("kind", limit=12)  # the view knows the kinds of step
    call_sid = Text("call_sid", limit=64)
    direction = Choice("direction", choices=("inbound", "outbound"), default="inbound")
    url = Text("url", limit=2000)
    status_callback = Text("status_callback", limit=2000)
    digits = Text("digits", limit=32)
    finished_on_key = Text("finished_on_key", limit=1)
    dial_status = Text("dial_status", limit=20)
    duration = Int("duration", low=0, high=24 * 3600)
    callback_id = Int("callback_id", low=1)


# ---- users -------------------------------------------------------------------------------

class LoginForm(Form):
    username = Raw(_l("User name"))
    password = Raw(_l("Password"))
    next = Raw("next")  # a path inside the console, checked by auth.safe_next


class UserForm(Form):
    username = Text(_l("User name"), limit=80)
    name = Text(_l("Name"), limit=120)
    role = Choice(_l("Role"), choices=[r.value for r in StaffRole], default="",
                  message="Choose a role.")
    person_id = Int(_l("Linked person"), low=1,
                    message="This person cannot have this kind of login.")
    password = Password(_l("Password"))


class ActiveForm(Form):
    active = Flag(_l("Active"), default=False)


class PasswordForm(Form):
    password = Password(_l("New password"))


# ---- groups, the service directory, gateway SIMs -----------------------------------------

class GroupForm(Form):
    code = Text(_l("Code"), limit=10)
    name = Text(_l("Name"), limit=120)
    ward_old = Text(_l("Old ward"), limit=60)
    ward_current = Text(_l("Current ward"), limit=60)
    active = Flag(_l("Active"), default=True)


class MemberForm(Form):
    phone = Text(_l("Phone"), limit=40)
    role = Text(_l("Role"), limit=30)


class ProviderForm(Form):
    code = Text(_l("Code"), limit=12)
    name = Text(_l("Name"), limit=160)
    phone = Text(_l("Phone"), limit=40)
    handles = Text(_l("What they handle"), limit=2000, multiline=True)
    hours = Text(_l("Hours"), limit=120)
    address = Text(_l("Address"), limit=200)
    active = Flag(_l("Active"), default=True)


class DeviceForm(Form):
    name = Text(_l("Name"), limit=60)
    app_device_id = Text(_l("Device id (from the app)"), limit=200)
    sim_number = Int(_l("SIM slot"))  # the service says which slots exist
    phone = Text(_l("Phone"), limit=40)
    send_rate = Int(_l("Per minute"), default=6)
    daily_limit = Int(_l("Daily limit"), default=400)
    webhook_secret = Password(_l("Signing key (empty: keep)"))
    active = Flag(_l("Active"), default=True)


# ---- cases and the triage inbox ----------------------------------------------------------

CATEGORIES = [c.value for c in Category]


class CaseActionForm(Form):
    """Every field a case page button posts; each action reads the ones it needs."""

    note = Text(_l("Note"), limit=4000, multiline=True)
    contacted = Flag(_l("I spoke with the member"), default=False)
    person_id = Int(_l("Person"), low=1, message="Choose a person.")
    provider_id = Int(_l("Service"), low=1, message="Choose a service.")
    referral_id = Int(_l("Referral"), low=1, message="Choose a referral.")
    outcome = Choice(_l("Outcome"), choices=monitoring.OUTCOMES, default="",
                     message="Choose an outcome.")
    status = Choice(_l("How it ends"), choices=[s.value for s in CLOSE_STATUSES],
                    coerce=CaseStatus, default=None, message="Choose how the case ends.")
    category = Choice(_l("Category"), choices=CATEGORIES, coerce=int, default=None,
                      message="Choose a category.")
    emergency = Flag(_l("Emergency"), default=False)


class CaseFilterForm(Form):
    """The case inbox's filters (see ``queries.cases.CaseFilters``)."""

    status = Choice(_l("Status"), choices=["open", "all", *(s.value for s in CaseStatus)],
                    default="open")
    category = Choice(_l("Category"), choices=CATEGORIES, coerce=int, default=None)
    emergency = Flag(_l("Emergency"), default=False)
    assignee = Text(_l("Assigned to"), limit=12)
    group_id = Int(_l("Group"), name="group", low=1)
    channel = Text(_l("Channel"), limit=12)
    number = Int(_l("Case number"), low=1)
    q = Text(_l("Search"), limit=80)
    ward = Text(_l("Ward"), limit=60)


class TriageForm(Form):
    category = Choice(_l("Category"), choices=CATEGORIES, coerce=int, default=Category.OTHER,
                      message="Choose a category.")
    emergency = Flag(_l("Emergency"), default=False)
    text = Text(_l("Answer"), limit=612, multiline=True)


# ---- meetings ----------------------------------------------------------------------------

WHEN = "Give the meeting a date and time."
MEETS = "Choose when the group meets."


class MoveForm(Form):
    """When and where a meeting is (moved to)."""

    day = Day(_l("Date"), [Required(WHEN)], name="date", message=WHEN)
    at = Clock(_l("Time"), name="time", default=time(15), message=WHEN)
    place = Text(_l("Place"), limit=200)


class MeetingForm(MoveForm):
    topic = Text(_l("Topic"), limit=2000, multiline=True)


class SeriesForm(Form):
    kind = Choice(_l("Repeats"), [Required(MEETS)], choices=SERIES_KINDS, message=MEETS)
    weekday = Int(_l("Weekday"), [Required(MEETS)], low=0, high=6, message=MEETS)
    nth = Choice(_l("Which week"), choices=SERIES_NTH, coerce=int, default=1, message=MEETS)
    at = Clock(_l("Time"), name="time", default=time(15), message=WHEN)
    starts_on = Day(_l("From"), message=WHEN)
    place = Text(_l("Place"), limit=200)
    topic = Text(_l("Topic"), limit=2000, multiline=True)


SAFE_HOURS = "Safe-contact hours must be times, such as 18:00."


# ---- people ------------------------------------------------------------------------------

class PersonForm(Form):
    """The person page's edit form: only the fields it posts change (the two tick boxes
    always do: an unticked box is not posted)."""

    name = Text(_l("Name"), limit=120)
    preferred_name = Text(_l("Preferred name (what texts call her)"), limit=40)
    sex = Text(_l("Sex"), limit=10)
    birth_year = Int(_l("Birth year"), message="Birth year must be a year.")
    occupation = Text(_l("Occupation"), limit=40)
    home_province = Text(_l("Home province"), limit=60)
    ward_old = Text(_l("Old ward"), limit=60)
    ward_current = Text(_l("Current ward"), limit=60)
    residence_status = Text(_l("Residence"), limit=20)
    role = Text(_l("Role"), limit=20)
    trained_violence = Flag(_l("Trained for violence cases"), default=False)
    on_duty = Flag(_l("On the duty roster"), default=False)
    bhyt_expires_on = Day(_l("BHYT card valid until"),
                          message="The BHYT card's end must be a date.")
    safe_contact_start = Clock(_l("Safe to contact from"), default=None, message=SAFE_HOURS)
    safe_contact_end = Clock(_l("Safe to contact until"), default=None, message=SAFE_HOURS)

    def values(self) -> dict:
        return {name: field.data for name, field in self._fields.items()
                if field.raw_data or name in ("trained_violence", "on_duty")}


class NotifyChannelForm(Form):
    """How she is told (case news, reminders): by SMS, by a voice call, or both."""

    channel = Choice(_l("How she is told"), [Required()],
                     choices=tuple(c.value for c in NotifyChannel))


class MergeForm(Form):
    other = Int(_l("The other record"), low=1)
    current_phone = Text(_l("Current number"), limit=40)


# ---- broadcasts --------------------------------------------------------------------------

class BroadcastForm(Form):
    text = Text(_l("Message"), limit=1000, multiline=True)
    group_id = Text(_l("Group"), limit=60)
    ward_old = Text(_l("Old ward"), limit=60)
    ward_current = Text(_l("Current ward"), limit=60)
    occupation = Text(_l("Occupation"), limit=60)
    sex = Text(_l("Sex"), limit=60)
    age_band = Text(_l("Age band"), limit=60)
    send_at = Moment(_l("Send at (empty: now)"))
    send = Choice("send", choices=("0", "1", "confirm"), default=None)
    recipients = Int(_l("Recipients"), low=0)
    # A voice broadcast from a staff recording: the file uploaded now (judged by
    # audio.recordings), or the one stored by an earlier step of the same page, by name; or
    # the text said instead of it.
    recording = FileField(_l("Recording"))
    recording_name = Text(_l("Recording"), limit=64)
    text_instead = Choice("text_instead", choices=("1",), default=None)


# ---- voice prompts -----------------------------------------------------------------------

class UploadForm(Form):
    file = FileField(_l("Recording"))  # its format and size are judged by audio.recordings


# ---- collective voice: minutes, issues, forums, press --------------------------------------

A_DATE, PEOPLE = "Give a valid date.", "Give a number of people from 0 to 10000."


class AttendanceForm(Form):
    """A meeting's roll: the people ticked present, among the people listed on the page."""

    present = Ints(_l("Present"))
    listed = Ints(_l("Listed"))


class MinutesForm(Form):
    topics = Many(_l("Topics"), limit=20)
    attended = Int(_l("Attended"), low=0, high=10000, message=PEOPLE)
    decisions = Text(_l("Decisions"), limit=4000, multiline=True)
    issues_raised = Text(_l("Issues raised"), limit=4000, multiline=True)
    notes = Text(_l("Notes"), limit=4000, multiline=True)


class IssueForm(Form):
    title = Text(_l("Title"), limit=200)
    description = Text(_l("Description"), limit=4000, multiline=True)
    category = Int(_l("Category"))
    ward = Text(_l("Ward"), limit=60)
    raised_on = Day(_l("Raised on"), message=A_DATE)
    meeting_id = Int(_l("Meeting"), low=1)
    cases = Text(_l("Cases"), limit=2000)
    groups = Ints(_l("Groups"))


class StepForm(Form):
    kind = Text(_l("Step"), limit=12)
    on = Day(_l("Date"), [Required(A_DATE)], message=A_DATE)
    note = Text(_l("Note"), limit=4000, multiline=True)


class ForumForm(Form):
    title = Text(_l("Title"), limit=200)
    held_on = Day(_l("Held on"), [Required(A_DATE)], message=A_DATE)
    place = Text(_l("Place"), limit=200)
    ward = Text(_l("Ward"), limit=60)
    commitments = Text(_l("Commitments"), limit=4000, multiline=True)
    notes = Text(_l("Notes"), limit=4000, multiline=True)
    follow_up_on = Day(_l("Follow up on"), message=A_DATE)
    issues = Ints(_l("Issues"))

    def values(self) -> dict:
        data = {k: v for k, v in self.data.items() if not k.startswith("participants_")}
        return {**data, "participants": {kind: self[f"participants_{kind}"].data
                                         for kind in PARTICIPANT_KINDS}}


for _kind in PARTICIPANT_KINDS:  # one count per kind of participant
    setattr(ForumForm, f"participants_{_kind}",
            Int(_l("Participants"), low=0, high=10000, message=PEOPLE))


class PressForm(Form):
    outlet = Text(_l("Outlet"), limit=120)
    headline = Text(_l("Headline"), limit=300)
    published_on = Day(_l("Published on"), [Required(A_DATE)], message=A_DATE)
    url = Text(_l("Link"), limit=500)
    tone = Text(_l("Tone"), limit=10)
    summary = Text(_l("Summary"), limit=4000, multiline=True)
    categories = Ints(_l("Categories"))
    issue_id = Int(_l("Issue"), low=1)
