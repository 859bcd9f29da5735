"""Door handlers are thin: parse, call one service, render, in at most 10 lines of body.

Every view function registered on the app (sms, ivr, console) is unwrapped from its
decorators and its body counted without the docstring, comments and blank lines. There is no
allow-list: a longer handler moves its rules into a service (or ``ivr.flow``) instead.
"""

from __future__ import annotations

import ast
import inspect
import textwrap

MAX_BODY_LINES = 10


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
    assert not long, f"handlers over {MAX_BODY_LINES} lines: {long}"



def test_the_count_skips_docstring_comments_and_blank_lines():
    """The counter itself (a check that can fail): only statements count."""

    def view():
        """Docstring."""
        # a comment
        first = 1

        return first

    assert body_lines(view) == 2
