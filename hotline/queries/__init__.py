"""Read models the console and reports share: small functions taking a session, returning
rows; one visibility rule per thing (``hotline.services.cases.visible`` for cases)."""

from hotline.queries import (  # noqa: F401  (the modules, as ``queries.<domain>``)
    audit,
    brief,
    broadcasts,
    callbacks,
    cases,
    dashboard,
    erasures,
    groups,
    health,
    monitoring,
    notsent,
    people,
    person_page,
    prompts,
    providers,
    simulator,
    triage,
    users,
    voice,
)
