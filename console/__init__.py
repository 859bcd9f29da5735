"""The web door for staff and peer educators, served under /console/."""

from flask import Blueprint

bp = Blueprint("console", __name__, url_prefix="/console", template_folder="templates")

from console import views  # noqa: E402,F401
