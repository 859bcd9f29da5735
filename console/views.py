"""Console pages."""

from __future__ import annotations

from flask import render_template

from console import bp


@bp.get("/")
def index():
    return render_template("console/index.html")
