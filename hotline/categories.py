"""Case categories: pure data, shared by the models, the keyword parser and the voice menu."""

from __future__ import annotations

from enum import IntEnum


class Category(IntEnum):
    """What a case is about (DOMAIN.md, "What goes wrong"); stored as its number, which the
    member keys in (KN 3, the voice menu's choices)."""

    ENFORCEMENT = 1  # urban-order enforcement: fines, goods seized, chases
    HARASSMENT = 2  # harassment, theft, extortion, debt-bondage handlers
    VIOLENCE = 3  # domestic, gender-based, sexual: sensitive, trained people only
    PAYMENT = 4  # payment or cheating disputes
    HEALTH_INSURANCE = 5  # BHYT
    SOCIAL_INSURANCE = 6  # voluntary BHXH
    RESIDENCE = 7  # tam tru
    CHILDREN = 8
    HEALTH = 9
    LEGAL = 10  # legal aid and papers
    HOUSING = 11
    OTHER = 12
