"""The voice menu data: targets, categories, sizes, validation."""

from __future__ import annotations

import dataclasses
from types import MappingProxyType

from audio.catalogue import CATALOGUE
from hotline.categories import Category
from hotline.templates import CATEGORY_WORDS
from ivr.menu import (
    ACTIONS,
    CASE_STATUSES,
    DIGIT_PROMPTS,
    MENU,
    REPORT_NODES,
    Act,
    Node,
    case_status_prompt,
    category_prompt,
    choose,
    digit_prompt_keys,
    reachable_prompt_keys,
    read_choices,
    validate,
)


def all_acts(menu=MENU):
    """Every Act in the menu, fallbacks included."""
    todo = []
    for node in menu.nodes.values():
        todo += [t for t in node.choices.values() if isinstance(t, Act)]
        if node.on_digits is not None:
            todo.append(node.on_digits)
    seen = []
    while todo:
        act = todo.pop()
        seen.append(act)
        if isinstance(act.fallback, Act):
            todo.append(act.fallback)
    return seen


def test_every_target_exists():
    for key, node in MENU.nodes.items():
        assert node.key == key
        for target in node.choices.values():
            if isinstance(target, Act):
                assert target.name in ACTIONS
            else:
                assert target in MENU.nodes, (key, target)
        if node.parent is not None:
            assert node.parent in MENU.nodes
    for act in all_acts():
        assert act.name in ACTIONS
        assert act.then is None or act.then in MENU.nodes
        assert act.fallback is None or isinstance(act.fallback, Act) or (act.fallback in MENU.nodes)


def test_real_menu_validates():
    assert validate(MENU, CATALOGUE) == []


def test_validate_finds_planted_errors():
    nodes = dict(MENU.nodes)
    nodes["main"] = dataclasses.replace(
        nodes["main"],
        choices={
            **nodes["main"].choices,
            "6": "nowhere",
            "7": Act("fly_away"),
            "8": Act("record_complaint", {"category": 13}),
        },
    )
    nodes["info"] = dataclasses.replace(nodes["info"], prompts=("no_such_prompt",))
    nodes["lonely"] = Node("lonely", ("goodbye",), parent="main")
    broken = dataclasses.replace(MENU, nodes=MappingProxyType(nodes))
    catalogue = {k: v for k, v in CATALOGUE.items() if k != "case_not_found"}

    errors = "\n".join(validate(broken, catalogue))

    assert "'nowhere' does not exist" in errors
    assert "unknown action 'fly_away'" in errors
    assert "category 13 is not 1..12" in errors
    assert "'no_such_prompt' missing" in errors
    assert "'case_not_found' missing" in errors
    assert "'lonely' cannot be reached" in errors


def test_validate_finds_missing_action_argument_and_bad_fallback():
    nodes = dict(MENU.nodes)
    nodes["report"] = dataclasses.replace(
        nodes["report"],
        choices={"1": Act("record_complaint"), "2": Act("dial_duty", fallback="gone")},
    )
    broken = dataclasses.replace(MENU, nodes=MappingProxyType(nodes))
    errors = "\n".join(validate(broken, CATALOGUE))
    assert "needs argument 'category'" in errors
    assert "fallback 'gone' is not a node" in errors


def test_every_category_choice_is_a_valid_category():
    categories = {a.args["category"] for a in all_acts() if "category" in a.args}
    assert categories <= set(range(1, 13))
    recorded = {a.args["category"] for a in all_acts() if a.name == "record_complaint"}
    assert recorded == set(range(1, 13))  # every complaint number can be reported by voice


def _category_of(target) -> int:
    if target == "report_safety":  # violence: the safety choices first, still category 3
        return {a.args["category"] for a in MENU.nodes[target].choices.values()
                if "category" in a.args}.pop()
    assert target.name == "record_complaint"
    return target.args["category"]


def test_the_voice_report_pages_and_sms_share_one_category_list():
    """KN 6 by SMS and 6 on a report page are the same category; the pages read the
    numbers HD tells, in its order, at most four at a time."""
    read = [int(p.removeprefix("category_")) for key in REPORT_NODES
            for p in MENU.nodes[key].prompts if p.startswith("category_")]
    assert read == list(CATEGORY_WORDS) == list(Category)
    for key in REPORT_NODES:
        page = MENU.nodes[key]
        assert sum(p.startswith("category_") for p in page.prompts) <= 4
        for code in CATEGORY_WORDS:  # any number works on any page
            assert _category_of(choose(MENU, key, str(code))) == code, (key, code)
        assert choose(MENU, key, "13") is None and choose(MENU, key, "01") is None
    assert [choose(MENU, key, "0") for key in REPORT_NODES] == [*REPORT_NODES[1:], "report"]
    assert choose(MENU, "report_2", "*") == "main"


def test_category_prompts_say_the_keys_of_the_number():
    assert CATALOGUE["category_7"] == "Tạm trú, bấm bảy."
    assert CATALOGUE["category_12"].endswith("bấm một, hai.")
    assert all(category_prompt(c) in CATALOGUE for c in Category)


def test_safety_branch_keeps_category_3_through_voicemail():
    safety = MENU.nodes["report_safety"]
    dial = safety.choices["1"]
    assert dial.name == "dial_duty" and dial.args["category"] == 3
    assert dial.fallback.name == "record_complaint" and dial.fallback.args["category"] == 3
    assert safety.choices["2"].args["category"] == 3
    assert safety.choices["9"].name == "emergency"


def test_at_most_nine_choices_and_real_phone_keys():
    for key, node in MENU.nodes.items():
        if node.gather_digits > 1:  # keyed numbers
            assert all(k.isdigit() and len(k) <= node.gather_digits for k in node.choices)
            continue
        assert len([k for k in node.choices if k.isdigit()]) <= 9, key
        for pressed in node.choices:
            assert len(pressed) == 1 and pressed in "0123456789*#"
            assert pressed not in (node.repeat_key, node.back_key)


def test_validate_finds_a_report_page_key_that_is_not_a_number():
    nodes = dict(MENU.nodes)
    nodes["report"] = dataclasses.replace(nodes["report"],
                                          choices={**nodes["report"].choices, "1#": "main"})
    broken = dataclasses.replace(MENU, nodes=MappingProxyType(nodes))
    assert "choice key '1#' is not a number of at most 2 digits" in "\n".join(
        validate(broken, CATALOGUE))


def test_main_menu_shape():
    main = MENU.nodes["main"]
    assert main.choices["1"] == "info"
    assert main.choices["2"] == "report"
    assert main.choices["3"] == "more"
    assert main.choices["4"].name == "callback"  # shortcuts kept from the seven-choice menu
    assert main.choices["5"].name == "dial_duty"
    assert main.choices["9"].name == "emergency"
    voicemail = main.choices["9"].fallback
    assert voicemail.name == "record_complaint" and voicemail.args["emergency"] is True
    assert CATALOGUE["main_menu"].startswith("Nếu chị đang gặp nguy hiểm, bấm phím chín.")
    more = MENU.nodes["more"]
    assert more.choices["1"] == "case_lookup" and more.choices["4"] == "mine"
    assert [more.choices[d].name for d in "23"] == ["callback", "dial_duty"]
    info, rest = MENU.nodes["info"], MENU.nodes["info_more"]
    assert [info.choices[d] for d in "1234"] == ["info_bhyt", "info_bhxh", "info_tam_tru",
                                                 "info_more"]
    assert [rest.choices[d] for d in "1234"] == ["info_legal_aid", "info_goods_seized",
                                                 "info_gender", "info_safety"]


def test_at_most_four_choices_are_read_at_once():
    for key, node in MENU.nodes.items():
        assert read_choices(node, CATALOGUE) <= 4, key
    assert read_choices(MENU.nodes["main"], CATALOGUE) == 4  # 9 first, then 1, 2, 3
    nodes = dict(MENU.nodes)
    nodes["main"] = dataclasses.replace(nodes["main"], prompts=("main_menu", "info_menu"))
    broken = dataclasses.replace(MENU, nodes=MappingProxyType(nodes))
    assert "node 'main': reads 8 choices at once, at most 4" in validate(broken, CATALOGUE)


def test_star_repeats_zero_goes_back():
    assert choose(MENU, "info", "*") == "info"
    assert choose(MENU, "info", "0") == "main"
    assert choose(MENU, "info_bhyt", "0") == "info"
    assert choose(MENU, "report_safety", "0") == "report"
    assert choose(MENU, "main", "*") == "main"
    assert choose(MENU, "main", "7") is None
    assert choose(MENU, "info", "1") == "info_bhyt"


def test_case_number_entry():
    node = MENU.nodes["case_lookup"]
    assert node.gather_digits > 1 and node.finish_on_key == "#"
    target = choose(MENU, "case_lookup", "1203")
    assert isinstance(target, Act) and target.name == "case_status"
    assert ACTIONS["case_status"].input == "digits"
    assert target.fallback == "case_lookup"
    assert choose(MENU, "case_lookup", "*") == "main"  # 0 is a digit here
    assert choose(MENU, "case_lookup", "12*3") is None


def test_consent_first_call():
    consent = MENU.nodes[MENU.first_call]
    assert consent.prompts == ("consent_ask",)
    assert consent.choices["1"].args["answer"] == "granted"
    assert consent.choices["2"].args["answer"] == "refused"
    assert not ACTIONS["consent"].needs_consent
    for name in ("record_complaint", "callback", "dial_duty", "case_status"):
        assert ACTIONS[name].needs_consent


def test_information_and_emergency_need_no_consent():
    """A caller who refused consent can still hear information, and key 9 still works."""
    for key in ("info", "info_bhyt"):
        assert key in MENU.nodes
    assert not ACTIONS["emergency"].needs_consent


def test_reachable_prompt_keys_cover_nodes_actions_and_digits():
    keys = reachable_prompt_keys()
    assert {"welcome", "consent_ask", "main_menu", "invalid_key", "no_input", "goodbye"} <= keys
    assert {"record_instructions", "case_created", "case_not_found", "callback_queued"} <= keys
    assert {"dial_duty_failed", "emergency_numbers", "info_bhxh_support"} <= keys
    assert set(DIGIT_PROMPTS) <= keys
    assert {f"case_status_{s}" for s in CASE_STATUSES} <= keys


def test_case_status_prompt_and_digits():
    assert case_status_prompt("referred") == "case_status_referred"
    assert case_status_prompt("lost_contact") == "case_status_closed"
    assert case_status_prompt("reopened") == "case_status_in_progress"
    assert case_status_prompt("something_new") == "case_status_in_progress"
    assert digit_prompt_keys("1203") == ["digit_1", "digit_2", "digit_0", "digit_3"]
    assert digit_prompt_keys(45) == ["digit_4", "digit_5"]


def test_prompts_in_call_order_are_every_reachable_prompt_once():
    from ivr.menu import prompt_keys_in_call_order

    order = prompt_keys_in_call_order()
    assert len(order) == len(set(order)) and set(order) == reachable_prompt_keys()
    assert order[0] == "welcome" and order.index("main_menu") < order.index("info_menu")
