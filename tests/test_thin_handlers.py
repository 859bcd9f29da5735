"""Door handlers are thin: parse, call one service, render, in at most 10 lines of body.

Every view function registered on the app (sms, ivr, console) is unwrapped from its
decorators and its body counted without the docstring, comments and blank lines. Handlers
still longer are listed in LONG_HANDLERS with their current length: the list may only shrink
(a listed handler that got short fails too, so its line is deleted).
"""

from __future__ import annotations

import ast
import inspect
import textwrap

MAX_BODY_LINES = 10
# TODO(issue 13): 4 handlers left, all in the voice door (ivr/, where the IVR helpers work).
# Move their rules into hotline/services, then delete their line here. Endpoint: body lines.
LONG_HANDLERS: dict[str, int] = {
    "ivr.audio": 16,
    "ivr.menu": 27,
    "ivr.recorded": 14,
    "ivr.recording": 15,
}


def body_lines(view) -> int:
    """Lines of the function's body, without docstring, comments and blank lines."""
    func = inspect.unwrap(view)
    tree = ast.parse(textwrap.dedent(inspect.getsource(func)))
    node = tree.body[0]
    body = node.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    if not body:
        return 0
    source = textwrap.dedent(inspect.getsource(func)).splitlines()
    lines = source[body[0].lineno - 1:body[-1].end_lineno]
    return sum(1 for line in lines if line.strip() and not line.strip().startswith("#"))


def handler_lengths(app) -> dict[str, int]:
    return {endpoint: body_lines(view) for endpoint, view in app.view_functions.items()
            if endpoint.split(".")[0] in {"sms", "ivr", "console"}}


def test_every_door_handler_is_at_most_ten_lines(app):
    lengths = handler_lengths(app)
    assert len(lengths) > 60  # the walk found the doors
    long = {e: n for e, n in lengths.items() if n > MAX_BODY_LINES}
    unlisted = {e: n for e, n in long.items() if e not in LONG_HANDLERS}
    assert not unlisted, f"handlers over {MAX_BODY_LINES} lines: {unlisted}"


def test_the_allow_list_only_shrinks(app):
    lengths = handler_lengths(app)
    stale = {e: lengths.get(e) for e in LONG_HANDLERS if lengths.get(e, 0) <= MAX_BODY_LINES}
    assert not stale, f"short now, delete from LONG_HANDLERS: {stale}"
