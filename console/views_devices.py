"""The Android gateway SIMs, for administrators: each SIM's health, add one, change one."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from console import auth, bp
from console.common import me, now, unit
from console.forms import DeviceForm, parse
from hotline.models import GatewayDevice
from hotline.services import devices
from hotline.services.errors import ServiceError


def _save(device_id: int | None):
    try:
        fields = parse(DeviceForm).data
        with unit() as db:
            device = db.get(GatewayDevice, device_id) if device_id is not None else None
            if device_id is not None and device is None:
                abort(404)
            saved = devices.save_audited(db, now(), me(db), device, **fields).id
        flash(_("Saved."), "ok")
        return redirect(url_for("console.devices") + f"#d-{saved}")
    except ServiceError as exc:
        flash(_(str(exc)), "error")
        return redirect(url_for("console.devices"))


@bp.get("/devices", endpoint="devices")
@auth.allow(auth.ADMIN)
def devices_page():
    with unit() as db:
        return render_template("console/devices.html", rows=devices.listing(db, now()))


@bp.post("/devices")
@auth.allow(auth.ADMIN)
def device_add():
    return _save(None)


@bp.post("/devices/<int:device_id>")
@auth.allow(auth.ADMIN)
def device_edit(device_id: int):
    return _save(device_id)
