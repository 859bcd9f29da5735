"""Groups and meetings, broadcasts, prompts, the service directory, the audit log."""

from __future__ import annotations

import time
from datetime import datetime

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

from audio import recordings as prompt_service
from audio.prompts import broadcast_dir
from console import auth, bp, prompts
from console.common import act, get_or_404, me, now, outbox, page_number, rt, unit
from console.forms import (
    AttendanceForm,
    AuditFilterForm,
    BroadcastForm,
    ConfirmForm,
    GroupForm,
    MeetingForm,
    MemberForm,
    MoveForm,
    ProviderForm,
    ProvidersPageForm,
    SeriesForm,
    UploadForm,
    lenient,
    parse,
    submitted,
)
from console.media import send_sound
from hotline import clock, queries
from hotline.models import Broadcast, Group, Meeting, MeetingSeries, Membership, Provider
from hotline.services import broadcasts as broadcast_service
from hotline.services import groups as group_service
from hotline.services import meetings as meeting_service
from hotline.services import providers as provider_service
from hotline.services.errors import N_, ServiceError
from hotline.text import is_gsm7, sms_length

# --------------------------------------------------------------------------------------------
# Groups and meetings
# --------------------------------------------------------------------------------------------


@bp.get("/groups")
@auth.allow(*auth.STAFF)
def groups():
    with unit() as db:
        return render_template("console/groups.html", rows=queries.groups.groups_overview(db))


@bp.post("/groups")
@auth.allow(*auth.STAFF)
def group_create():
    try:
        fields = parse(GroupForm).data
        with unit() as db:
            group = group_service.save_group(db, now(), me(db), None, **fields)
            group_id = group.id
        flash(_("Saved."), "ok")
        return redirect(url_for("console.group_page", group_id=group_id))
    except ServiceError as exc:
        flash(_(str(exc)), "error")
        return redirect(url_for("console.groups"))


@bp.get("/groups/<int:group_id>")
@auth.allow(*auth.STAFF)
def group_page(group_id: int):
    with unit() as db:
        group = get_or_404(db, Group, group_id)
        return render_template(
            "console/group.html", g=group, members=queries.groups.group_members(db, group),
            meetings=queries.groups.group_meetings(db, group),
            series=queries.groups.group_series(db, group, now()),
        )


def _on_group(group_id: int, change, form_class):
    """``change`` (a groups service) on the group with the posted form, then its page."""
    return act(lambda db: change(db, now(), me(db), get_or_404(db, Group, group_id),
                                 **parse(form_class).data),
               url_for("console.group_page", group_id=group_id))


@bp.post("/groups/<int:group_id>/edit")
@auth.allow(*auth.STAFF)
def group_edit(group_id: int):
    return _on_group(group_id, group_service.save_group, GroupForm)


@bp.post("/groups/<int:group_id>/members")
@auth.allow(*auth.STAFF)
def group_add_member(group_id: int):
    return _on_group(group_id, group_service.add_member, MemberForm)


@bp.post("/groups/<int:group_id>/members/<int:membership_id>/leave")
@auth.allow(*auth.STAFF)
def group_remove_member(group_id: int, membership_id: int):
    with unit() as db:
        membership = get_or_404(db, Membership, membership_id)
        if membership.group_id != group_id or membership.left_at is not None:
            abort(404)
        if not parse(ConfirmForm).confirm.data:  # first say what leaving means, then act
            return render_template("console/leave.html", m=membership)
        group_service.remove_member(db, now(), me(db), membership)
    flash(_("Saved."), "ok")
    return redirect(url_for("console.group_page", group_id=group_id))


@bp.post("/groups/<int:group_id>/meetings")
@auth.allow(*auth.STAFF)
def meeting_create(group_id: int):
    try:
        fields = parse(MeetingForm).data
    except ServiceError as exc:
        flash(_(str(exc)), "error")
        return redirect(url_for("console.group_page", group_id=group_id))
    with unit() as db:
        meeting_id = meeting_service.schedule_meeting(
            db, now(), me(db), get_or_404(db, Group, group_id), **fields).id
    flash(_("Saved."), "ok")
    return redirect(url_for("console.meeting_page", meeting_id=meeting_id))


@bp.post("/groups/<int:group_id>/series")
@auth.allow(*auth.STAFF)
def series_create(group_id: int):
    """A recurring meeting: weekly on a weekday, or monthly on the nth (or last) weekday."""
    return act(lambda db: meeting_service.add_series(
        db, now(), me(db), get_or_404(db, Group, group_id), **parse(SeriesForm).data),
               url_for("console.group_page", group_id=group_id) + "#series")


@bp.post("/series/<int:series_id>/stop")
@auth.allow(*auth.STAFF)
def series_stop(series_id: int):
    """No more meetings of the series; those ahead are cancelled and members told."""
    try:
        with unit() as db:
            series = get_or_404(db, MeetingSeries, series_id)
            group_id = series.group_id
            cancelled = meeting_service.end_series(db, now(), outbox(db), me(db), series)
        flash(_("The series has stopped; %(count)s meetings ahead were cancelled and members "
                "are told.", count=cancelled), "ok")
    except ServiceError as exc:
        flash(_(str(exc)), "error")
    return redirect(url_for("console.group_page", group_id=group_id) + "#series")


@bp.get("/meetings/<int:meeting_id>")
@auth.allow(*auth.STAFF)
def meeting_page(meeting_id: int):
    with unit() as db:
        meeting = get_or_404(db, Meeting, meeting_id)
        series = db.get(MeetingSeries, meeting.series_id) if meeting.series_id else None
        return render_template("console/meeting.html", m=meeting, series=series,
                               rows=queries.groups.meeting_attendance(db, meeting),
                               reminders=queries.notsent.meeting_reminders(db, meeting.id))


@bp.post("/meetings/<int:meeting_id>/attendance")
@auth.allow(*auth.STAFF)
def meeting_attendance(meeting_id: int):
    def change(db):
        roll = parse(AttendanceForm)
        meeting_service.record_roll(db, now(), me(db), get_or_404(db, Meeting, meeting_id),
                                    set(roll.present.data), set(roll.listed.data))

    return act(change, url_for("console.meeting_page", meeting_id=meeting_id))


@bp.post("/meetings/<int:meeting_id>/move")
@auth.allow(*auth.STAFF)
def meeting_move(meeting_id: int):
    return act(lambda db: meeting_service.move_meeting(
        db, now(), outbox(db), me(db), get_or_404(db, Meeting, meeting_id), **parse(MoveForm).data),
        url_for("console.meeting_page", meeting_id=meeting_id))


@bp.post("/meetings/<int:meeting_id>/cancel")
@auth.allow(*auth.STAFF)
def meeting_cancel(meeting_id: int):
    return act(lambda db: meeting_service.cancel_meeting(db, now(), outbox(db), me(db),
                                                  get_or_404(db, Meeting, meeting_id)),
               url_for("console.meeting_page", meeting_id=meeting_id))


# --------------------------------------------------------------------------------------------
# Broadcasts
# --------------------------------------------------------------------------------------------

@bp.route("/broadcasts", methods=["GET", "POST"])
@auth.allow(*auth.STAFF)
def broadcasts():
    """Compose and preview (recipients, SMS parts, cost, the calls and their minutes); the
    scheduler sends at the time. Members told by voice hear the text said, or the staff
    recording uploaded here played."""
    form = lenient(BroadcastForm, submitted())
    recording, refused = _recording(form)
    with unit() as db:
        done = broadcast_service.compose(db, now(), me(db), _draft(form, recording, refused),
                                         rt().settings.sms_price_vnd,
                                         rt().settings.call_price_vnd)
        if done.queued:
            return _queued()
        return _broadcast_page(db, form, done, recording, refused)


def _queued():
    flash(_("The broadcast is queued; the messages go out within a minute, "
            "inside the allowed hours."), "ok")
    return redirect(url_for("console.broadcasts"))


def _recording(form: BroadcastForm) -> tuple[broadcast_service.Recorded | None, str | None]:
    """The staff recording of the draft: uploaded now (checked and stored re-encoded), or
    the one an earlier step stored, by its name; None to say the text. Second: why an
    upload or a name was refused (then nothing is sent)."""
    folder = broadcast_dir(rt().settings)
    upload = form.recording.data
    if upload is not None:
        try:
            stored = prompt_service.save_broadcast_recording(folder, upload.filename,
                                                             upload.read())
        except ServiceError as exc:
            return None, str(exc)
        with unit() as db:  # drafts left unsent a week ago go
            prompt_service.sweep_broadcast_recordings(
                folder, queries.broadcasts.recordings_in_use(db) | {stored.name}, time.time())
        return stored, None
    name = form.recording_name.data
    if not name or form.text_instead.data:
        return None, None
    found = prompt_service.broadcast_sound(folder, name)
    return found, None if found else N_("The recording is gone; upload it again.")


def _send_at(form: BroadcastForm) -> datetime | None:
    local = form.send_at.data
    return clock.at_local(local.date(), local.time()) if local else None


def _draft(form: BroadcastForm, recording: broadcast_service.Recorded | None,
           refused: str | None) -> broadcast_service.Draft:
    """The page's values; after a refused value or upload only a preview (nothing is sent)."""
    posted = request.method == "POST" and not form.refused and not refused
    step = form.send.data if posted else None
    if step == "confirm" and form.recording.data is not None:
        step = "1"  # a sound she has not been asked about yet: ask with it first
    return broadcast_service.Draft(
        text=form.text.data,
        segment={k: form[k].data for k in broadcast_service.SEGMENT_KEYS if form[k].data},
        send_at=_send_at(form), step=step,
        recipients_seen=form.recipients.data, recording=recording)


def _broadcast_page(db, form: BroadcastForm, done: broadcast_service.Composed,
                    recording: broadcast_service.Recorded | None, refused: str | None):
    """The broadcasts page, with why a value, an upload or a step was refused (then status
    400)."""
    refusals = [r for r in (form.refused, refused, done.refused) if r]
    for refused in refusals:
        flash(_(refused), "error")
    preview, send_at = done.preview, _send_at(form)
    recent = queries.broadcasts.recent_broadcasts(db)
    return render_template(
        "console/broadcasts.html",
        text=form.text.data, segment=done.segment, p=preview, confirming=done.confirming,
        send_at_value=send_at,
        finish=broadcast_service.expected_finish(db, now(), preview.recipients, rt().settings,
                                                 start=send_at),
        finishes=broadcast_service.finish_times(db, now(), recent, rt().settings),
        send_at=(form.send_at.raw_data or [""])[0] if not form.send_at.errors else "",
        length=sms_length(preview.text), gsm7=is_gsm7(preview.text),
        sample=queries.broadcasts.recipients_sample(db, done.segment, now()),
        groups=queries.groups.all_groups(db), wards=queries.people.wards(db),
        occupations=queries.people.occupations(db),
        age_bands=list(broadcast_service.AGE_BANDS), recent=recent, recording=recording,
    ), 400 if refusals else 200


@bp.errorhandler(RequestEntityTooLarge)
def too_large(_exc):
    """A body over the app's limit (an upload too large): a form error on the page it came
    from, nothing saved, never a bare 413 or a 500."""
    flash(_("The file is too large (at most 2 MB)."), "error")
    back = request.referrer or ""
    if not back.startswith(request.host_url + "console/"):
        back = url_for("console.broadcasts" if request.endpoint == "console.broadcasts"
                       else "console.index")
    return redirect(back)


@bp.get("/broadcasts/recordings/<name>")
@auth.allow(*auth.STAFF)
def broadcast_recording(name: str):
    """A voice broadcast's staff recording, for staff to listen to before and after sending."""
    folder = broadcast_dir(rt().settings)
    if prompt_service.broadcast_sound(folder, name) is None:
        abort(404)
    return _sound(folder / name)


@bp.post("/broadcasts/<int:broadcast_id>/cancel")
@auth.allow(*auth.STAFF)
def broadcast_cancel(broadcast_id: int):
    return act(lambda db: broadcast_service.cancel_broadcast(db, now(), me(db),
                                                    get_or_404(db, Broadcast, broadcast_id)),
               url_for("console.broadcasts"))


# --------------------------------------------------------------------------------------------
# Prompts
# --------------------------------------------------------------------------------------------


@bp.get("/prompts", endpoint="prompts")
@auth.allow(*auth.STAFF)
def prompts_page():
    with unit() as db:
        rows = prompts.all_prompts(rt().settings, recorders=queries.prompts.recorders(db))
    synthetic = sum(1 for p in rows if p.in_menu and p.synthetic)
    return render_template("console/prompts.html", prompts=rows, synthetic=synthetic)


@bp.get("/prompts/<key>/audio")
@auth.allow(*auth.STAFF)
def prompt_audio(key: str):
    prompt = prompts.find(rt().settings, key)
    if prompt is None or prompt.path is None:
        abort(404)
    return _sound(prompt.path)


def _sound(path):
    """A sound file of the line's for staff to listen to (a prompt, a broadcast's)."""
    from audio.render import content_type

    return send_sound(path, content_type(path))


@bp.post("/prompts/<key>/upload")
@auth.allow(*auth.STAFF)
def prompt_upload(key: str):
    if prompts.find(rt().settings, key) is None:
        abort(404)
    upload = parse(UploadForm).file.data
    return act(lambda db: prompt_service.save_prompt_recording(
        db, now(), me(db), prompts.dirs(rt().settings)[1], key,
        upload.filename if upload else "", upload.read() if upload else b""),
        url_for("console.prompts") + f"#p-{key}",
        done=_("Recording saved: the line plays it from now on."))


@bp.post("/prompts/<key>/remove")
@auth.allow(*auth.STAFF)
def prompt_remove(key: str):
    if prompts.find(rt().settings, key) is None:
        abort(404)
    return act(lambda db: prompt_service.remove_prompt_recording(
        db, now(), me(db), prompts.dirs(rt().settings)[1], key),
        url_for("console.prompts") + f"#p-{key}")


# --------------------------------------------------------------------------------------------
# Service directory
# --------------------------------------------------------------------------------------------


@bp.get("/providers")
@auth.allow(*auth.CASEWORK)
def providers():
    with unit() as db:
        edit_id = lenient(ProvidersPageForm).edit.data
        edit = db.get(Provider, edit_id) if edit_id and current_user.is_staff else None
        return render_template("console/providers.html", rows=queries.providers.providers(db),
                               edit=edit)


@bp.post("/providers")
@auth.allow(*auth.STAFF)
def provider_create():
    return act(lambda db: provider_service.save_provider(db, now(), me(db), None,
                                                         **parse(ProviderForm).data),
               url_for("console.providers"))


@bp.post("/providers/<int:provider_id>")
@auth.allow(*auth.STAFF)
def provider_edit(provider_id: int):
    return act(lambda db: provider_service.save_provider(
        db, now(), me(db), get_or_404(db, Provider, provider_id), **parse(ProviderForm).data),
               url_for("console.providers"))


# --------------------------------------------------------------------------------------------
# Audit log
# --------------------------------------------------------------------------------------------


@bp.get("/audit")
@auth.allow(*auth.STAFF)
def audit_log():
    filters, page = lenient(AuditFilterForm).data, page_number()
    with unit() as db:
        rows, total = queries.audit.audit_entries(db, page=page, **filters)
        return render_template("console/audit.html", rows=rows, total=total, page=page,
                               f=filters, actions=queries.audit.audit_actions(db), page_size=100)
