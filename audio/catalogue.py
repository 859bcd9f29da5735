"""Prompt catalogue: prompt key -> Vietnamese text, as the caller hears it.

Texts are written for listening, by people with little schooling: short sentences, plain words,
"bấm một" rather than "bấm 1", phone numbers spelled digit by digit (speech engines read
"1900 969680" as one large number otherwise). Every text stays well under ~25 seconds spoken.

Amounts and rules change (DOMAIN.md). Every figure an information text reads lives in
``hotline.figures.FIGURES`` (shared with the SMS texts) with the date it is valid from;
``build_catalogue(day)`` formats the texts from the figures valid on ``day``.
To change an amount, append a new ``Figure`` with its valid-from date;
never edit a text to hold a number.

A staff recording (``<key>.mp3`` / ``<key>.wav`` in the recordings directory) reads the same script;
when a text changes, the recording must be made again (see ``audio.render``).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

# The figures live in the core: the SMS texts read the same ones (re-exported here).
from hotline.categories import Category
from hotline.figures import FIGURES, Figure, figure  # noqa: F401

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")


# --------------------------------------------------------------------------------------------
# Figures, each with the date it is valid from
# --------------------------------------------------------------------------------------------


# Phone numbers read out, grouped as they are spoken. Directory data, not amounts.
LEGAL_AID_PHONE = "1800 1233"  # legal aid centre, free, office hours
EMERGENCY_NUMBERS: list[tuple[str, str]] = [
    ("Công an", "113"),
    ("Cấp cứu", "115"),
    ("Bảo vệ trẻ em", "111"),
]
WOMENS_LINE = ("Đường dây cho phụ nữ của Ngôi nhà Bình yên", "1900 969 680")


# --------------------------------------------------------------------------------------------
# Saying numbers in (northern) Vietnamese
# --------------------------------------------------------------------------------------------

WEEKDAY_WORDS = ("thứ hai", "thứ ba", "thứ tư", "thứ năm", "thứ sáu", "thứ bảy", "chủ nhật")
DIGIT_WORDS = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")
_SCALES = ("", "nghìn", "triệu", "tỷ")


def _three(n: int, full: bool) -> list[str]:
    """Words for 0..999; ``full`` reads leading zeros ("không trăm linh năm") as inside a number."""
    hundreds, tens, units = n // 100, n // 10 % 10, n % 10
    words: list[str] = []
    if hundreds or full:
        words += [DIGIT_WORDS[hundreds], "trăm"]
    if tens == 0:
        if units and (hundreds or full):
            words.append("linh")
    elif tens == 1:
        words.append("mười")
    else:
        words += [DIGIT_WORDS[tens], "mươi"]
    if units == 1 and tens >= 2:
        words.append("mốt")
    elif units == 5 and tens >= 1:
        words.append("lăm")
    elif units == 4 and tens >= 2:
        words.append("tư")
    elif units:
        words.append(DIGIT_WORDS[units])
    return words


def number_words(n: int) -> str:
    """330000 -> "ba trăm ba mươi nghìn"; 1005 -> "một nghìn không trăm linh năm"."""
    if n < 0:
        return "âm " + number_words(-n)
    if n == 0:
        return DIGIT_WORDS[0]
    groups: list[int] = []
    while n:
        groups.append(n % 1000)
        n //= 1000
    if len(groups) > len(_SCALES):
        raise ValueError("number too large to say")
    words: list[str] = []
    top = len(groups) - 1
    for i in range(top, -1, -1):
        if groups[i] == 0:
            continue
        words += _three(groups[i], full=i != top)
        if _SCALES[i]:
            words.append(_SCALES[i])
    return " ".join(words)


def decimal_words(value: int | Decimal) -> str:
    """4.5 -> "bốn phẩy năm" (digits after the comma one by one)."""
    d = Decimal(value).normalize()
    whole = int(d)
    text = number_words(whole)
    _, digits, exponent = d.as_tuple()
    if isinstance(exponent, int) and exponent < 0:
        frac = "".join(str(x) for x in digits[exponent:])
        text += " phẩy " + " ".join(DIGIT_WORDS[int(c)] for c in frac)
    return text


def percent_words(value: int | Decimal) -> str:
    return decimal_words(value) + " phần trăm"


def digits_words(number: str) -> str:
    """ "1900 969 680" -> "một chín không không, chín sáu chín, sáu tám không"."""
    groups = number.split()
    return ", ".join(" ".join(DIGIT_WORDS[int(c)] for c in g if c.isdigit()) for g in groups)


def round_thousand(value: int | Decimal) -> int:
    return int((Decimal(value) / 1000).quantize(Decimal(1), rounding=ROUND_HALF_UP)) * 1000


# --------------------------------------------------------------------------------------------
# Texts
# --------------------------------------------------------------------------------------------

# Texts without figures.
TEXTS: dict[str, str] = {
    # Call flow
    "welcome": "Xin chào chị. Đây là đường dây hỗ trợ người lao động tự do ở Hà Nội.",
    "consent_ask": (
        "Để giúp chị, đường dây sẽ lưu lại lời chị nói và số điện thoại của chị. "
        "Chỉ người giúp chị mới được nghe. Chị có thể đổi ý bất cứ lúc nào. "
        "Đồng ý, bấm một. Không đồng ý, bấm hai."
    ),
    "consent_thanks": "Cảm ơn chị đã đồng ý.",
    "consent_refused": (
        "Chúng tôi sẽ không lưu lời chị. Chị vẫn nghe được thông tin và các số khẩn cấp."
    ),
    "invalid_key": "Số chị bấm chưa đúng. Mời chị nghe lại.",
    "no_input": "Chị chưa bấm phím nào. Mời chị nghe lại.",
    "goodbye": "Cảm ơn chị đã gọi. Chúc chị bình an.",
    # Main menu
    "main_menu": (
        "Nếu chị đang gặp nguy hiểm, bấm phím chín. "
        "Nghe thông tin, bấm một. Báo việc chị gặp khó khăn, bấm hai. "
        "Hồ sơ của chị, gọi lại, họp nhóm và các việc khác, bấm ba. Nghe lại, bấm phím sao."
    ),
    "more_menu": (
        "Hỏi về hồ sơ của chị, bấm một. Muốn chúng tôi gọi lại, bấm hai. "
        "Nói chuyện với người trực, bấm ba. "
        "Họp nhóm, ngừng nhận tin, hay xóa thông tin của chị, bấm bốn. Quay lại, bấm không."
    ),
    "mine_menu": (
        "Nghe ngày họp nhóm tới, bấm một. Ngừng nhận mọi tin nhắn và cuộc gọi, bấm hai. "
        "Xin xóa thông tin của chị, bấm ba. Tên, nhóm và cách nhận tin báo, bấm bốn. "
        "Quay lại, bấm không."
    ),
    # Registering by keypad: her name (recorded for staff to type in) and her group
    "profile_menu": (
        "Để chúng tôi biết tên chị, bấm một rồi nói tên chị. "
        "Để vào nhóm tự lực của chị, bấm hai. "
        "Nghe tin báo qua cuộc gọi hay tin nhắn, bấm ba. Sang menu chính, bấm không."
    ),
    "channel_ask": (
        "Nếu chị muốn nghe tin báo qua cuộc gọi, bấm một. Chỉ nhận tin nhắn, bấm hai. "
        "Cả cuộc gọi và tin nhắn, bấm ba. Quay lại, bấm không."
    ),
    # Asked once, right after she agreed by keypad; no key keeps SMS.
    "channel_offer_ask": (
        "Nếu chị muốn nghe tin báo qua cuộc gọi, bấm một. "
        "Nếu chị muốn nhận tin báo bằng tin nhắn, bấm hai. "
        "Không bấm gì, chị sẽ nhận tin nhắn như trước."
    ),
    "channel_voice_said": "Cảm ơn chị. Từ nay đường dây sẽ gọi điện để báo tin cho chị.",
    "channel_sms_said": "Cảm ơn chị. Từ nay đường dây sẽ báo tin cho chị bằng tin nhắn.",
    "channel_both_said": "Cảm ơn chị. Đường dây sẽ báo tin cho chị bằng cả cuộc gọi và tin nhắn.",
    "name_record_instructions": "Chị nói tên của chị sau tiếng bíp. Nói xong, bấm phím thăng.",
    "name_recorded": "Cảm ơn chị. Chúng tôi đã ghi lại tên chị.",
    "group_list_intro": "Các nhóm tự lực gần chị là:",
    "group_press_1": "Vào nhóm này, bấm một.",
    "group_press_2": "Vào nhóm này, bấm hai.",
    "group_press_3": "Vào nhóm này, bấm ba.",
    "group_press_4": "Vào nhóm này, bấm bốn.",
    "group_list_next": "Các nhóm tiếp theo là:",
    "group_list_from_start": "Đã hết danh sách nhóm. Chúng tôi đọc lại từ đầu.",
    "group_list_more": "Còn nhóm khác. Nghe thêm, bấm phím thăng.",
    "group_pick_ask": "Chị bấm số của nhóm chị. Nghe lại, bấm phím sao. Quay lại, bấm không.",
    "group_none": "Chưa có nhóm nào để chị vào. Người trực sẽ giúp chị khi chị gọi lại.",
    "group_joined": "Cảm ơn chị. Chị đã vào nhóm",
    "group_not_listed": "Số chị bấm không có trong danh sách nhóm.",
    # The next meeting: "Buổi họp tới ... vào thứ hai, ngày 7 tháng 12, lúc 9 giờ 30 phút".
    "meeting_next": "Buổi họp tới của nhóm chị vào",
    "meeting_date": "ngày",
    "meeting_month": "tháng",
    "meeting_at": "lúc",
    "meeting_hour": "giờ",
    "meeting_minute": "phút",
    "meeting_place": "Chỗ họp là",
    "meeting_none": "Nhóm của chị chưa có buổi họp nào sắp tới.",
    "meeting_rsvp_ask": (
        "Nếu chị đến được, bấm một. Nếu chị không đến được, bấm hai. Quay lại, bấm không."
    ),
    "rsvp_yes_said": "Cảm ơn chị. Chúng tôi đã ghi là chị sẽ đến.",
    "rsvp_no_said": "Cảm ơn chị đã báo. Chúng tôi đã ghi là chị không đến được.",
    "opt_out_ask": (
        "Chị sẽ không nhận tin nhắn hay cuộc gọi nào của đường dây nữa. "
        "Đồng ý, bấm một. Quay lại, bấm không."
    ),
    "opted_out_said": (
        "Từ nay đường dây sẽ không nhắn tin hay gọi cho chị nữa. Khi cần, chị cứ gọi lại số này."
    ),
    "erase_ask": (
        "Chúng tôi sẽ xóa tên, số điện thoại và lời chị đã nói, trong hai ngày làm việc. "
        "Người trực có thể gọi lại để hỏi chị trước. Đồng ý, bấm một. Quay lại, bấm không."
    ),
    "erase_requested_said": (
        "Chúng tôi đã nhận yêu cầu xóa thông tin của chị. Việc này xong trong hai ngày làm việc."
    ),
    "repeat_or_back": "Nghe lại, bấm phím sao. Quay lại, bấm không.",
    # Information
    "info_menu": (
        "Bảo hiểm y tế, bấm một. Bảo hiểm xã hội tự nguyện, bấm hai. "
        "Đăng ký tạm trú, bấm ba. Các chủ đề khác, bấm bốn. Quay lại, bấm không."
    ),
    "info_more_menu": (
        "Trợ giúp pháp lý miễn phí, bấm một. Khi bị phạt hay bị thu giữ hàng, bấm hai. "
        "Bình đẳng giới, bấm ba. Giữ an toàn cho mình, bấm bốn. Quay lại, bấm không."
    ),
    "info_end": (
        "Nghe lại, bấm phím sao. Muốn chúng tôi gọi lại để hỏi thêm, bấm bốn. Quay lại, bấm không."
    ),
    "info_legal_aid": (
        "Trợ giúp pháp lý miễn phí dành cho: hộ nghèo, trẻ em, người bị bạo lực gia đình "
        "hoặc bị mua bán, người già hoặc người khuyết tật gặp khó khăn. "
        "Gọi miễn phí số {legal_aid_phone}, trong giờ hành chính."
    ),
    "info_goods_seized": (
        "Khi bị phạt hay bị thu giữ hàng: giữ bình tĩnh, đừng giằng co. "
        "Đội trật tự được phạt và giữ hàng, nhưng phải lập biên bản ghi rõ hàng bị giữ, "
        "và đưa chị một bản. Họ không được đánh, chửi, hay lấy hàng mà không có biên bản."
    ),
    "info_goods_seized_next": (
        "Khi nộp phạt, chị xin biên lai. Nhớ giờ, chỗ và tên đội. "
        "Mang biên bản ra phường để xin lấy lại hàng. "
        "Rồi gọi lại đường dây này, bấm hai để báo cho chúng tôi."
    ),
    "info_gender": (
        "Vợ và chồng bình đẳng: tiền bạc, việc nhà và các quyết định trong nhà là của cả hai. "
        "Chị có quyền tự chọn việc làm, tự tham gia bảo hiểm, và được trả công như nam giới."
    ),
    "info_safety": (
        "Nếu ở nhà chị thấy không an toàn: lưu sẵn số cần gọi, để giấy tờ và ít tiền "
        "ở chỗ người tin cậy, nghĩ trước sẽ đi đâu. {womens_line}, suốt ngày đêm."
    ),
    # Report a problem. Neutral words only: the caller may not be alone.
    "report_menu": "Chị gặp chuyện gì? Chị bấm số của việc đó, rồi bấm phím thăng.",
    "report_more": "Nghe thêm, bấm không. Quay lại, bấm phím sao.",
    "report_again": "Nghe lại từ đầu, bấm không. Quay lại, bấm phím sao.",
    "report_safety": (
        "Nếu chị đang gặp nguy hiểm, hãy gọi ngay một một ba. "
        "Nói chuyện với người trực, bấm một. Để lại lời nhắn, bấm hai. "
        "Đang gặp nguy hiểm, bấm chín."
    ),
    "record_instructions": "Chị nói sau tiếng bíp. Nói xong, bấm phím thăng.",
    "record_empty": "Chúng tôi chưa nghe được lời chị. Mời chị nói lại sau tiếng bíp.",
    "case_created": "Cảm ơn chị. Số hồ sơ của chị là",
    "case_created_end": "Chị nhớ số này nhé. Người trực sẽ gọi lại chị sớm.",
    # My case
    "case_enter_number": ("Chị bấm số hồ sơ, rồi bấm phím thăng. Quay lại, bấm phím sao."),
    "case_not_found": "Chúng tôi không tìm thấy số hồ sơ này. Mời chị bấm lại.",
    "case_status_new": "Hồ sơ của chị đã được nhận, đang chờ người trực xem.",
    "case_status_acknowledged": "Người trực đã xem hồ sơ của chị và sẽ sớm liên lạc với chị.",
    "case_status_in_progress": "Hồ sơ của chị đang được giải quyết.",
    "case_status_referred": (
        "Hồ sơ của chị đã được chuyển đến nơi có thể giúp chị. Họ sẽ liên lạc với chị."
    ),
    "case_status_resolved": (
        "Việc của chị đã giải quyết xong. Nếu chưa ổn, chị hãy báo lại cho chúng tôi."
    ),
    "case_status_closed": (
        "Hồ sơ của chị đã đóng. Nếu chị vẫn cần giúp, chị hãy báo lại cho chúng tôi."
    ),
    # Callback and the peer educator on duty
    "callback_queued": "Chúng tôi sẽ gọi lại cho chị sớm. Chị có thể gác máy.",
    "dial_duty_connecting": "Xin chị chờ một chút, đang nối máy với người trực.",
    "dial_duty_failed": ("Người trực đang bận. Chị để lại lời nhắn nhé, chúng tôi sẽ gọi lại."),
    # Key 9: danger. The case number is read between the first two.
    "emergency_opened": "Chúng tôi đã báo ngay cho người trực. Số hồ sơ của chị là",
    # An emergency alert call to a responder on call (the case number is read between).
    "alert_intro": "Tổng đài báo khẩn. Có người đang cần giúp ngay. Số hồ sơ là",
    "alert_press_one": (
        "Chị bấm một để nhận hồ sơ này, rồi gọi lại ngay cho người báo. Nghe lại, bấm phím sao."
    ),
    "alert_accepted": "Cảm ơn chị. Hồ sơ đã giao cho chị. Số của người báo có trong tin nhắn.",
    "alert_taken": "Hồ sơ này đã có người nhận. Cảm ơn chị.",
    # Voice notices: what the line would text a member, told by a call we place
    # (``hotline.services.voice_notices``). Neutral words: the phone may be shared.
    "notice_hello": "Xin chào chị. Đường dây hỗ trợ người lao động tự do gọi để báo tin cho chị.",
    "notice_case_number": "Tin về hồ sơ số",
    "notice_case_accepted": "Đã có người nhận giúp chị. Người đó sẽ sớm liên lạc với chị.",
    "notice_case_waiting": (
        "Chúng tôi vẫn đang tìm người giúp chị. Nếu cần gấp, chị gọi lại số này."
    ),
    "notice_referred_to": "Chị hãy liên hệ với",
    "notice_referred_phone": "Số điện thoại là",
    "notice_phone_again": "Xin nhắc lại, số điện thoại là",
    "notice_referred_no_phone": "Người hỗ trợ sẽ hướng dẫn chị đến đó.",
    "notice_case_resolved": (
        "Việc của chị đã được giải quyết. Vài ngày nữa chúng tôi sẽ gọi hỏi lại ý kiến của chị."
    ),
    "notice_followup": "Việc của chị đã được giải quyết xong chưa?",
    "notice_followup_referred": "Chúng tôi đã giới thiệu chị đến",
    "notice_meeting": "Nhắc chị buổi họp nhóm sắp tới, vào",
    "notice_meeting_moved": "Buổi họp nhóm của chị đã đổi sang",
    "notice_meeting_cancelled": "Buổi họp nhóm của chị vào",
    "notice_meeting_cancelled_end": "đã hủy. Lịch mới chúng tôi sẽ báo sau.",
    # The card's last day is read between the two: "ngày 31 tháng 12".
    "notice_bhyt": "Thẻ bảo hiểm y tế của chị sắp hết hạn, vào",
    "notice_bhyt_end": (
        "Chị nhớ gia hạn để không bị gián đoạn. Cần giúp, chị gọi cho đường dây."
    ),
    "notice_broadcast": "Đường dây có tin muốn chị biết.",
    "notice_keys_info": "Nghe lại, bấm một. Không muốn nhận cuộc gọi báo tin nữa, bấm không.",
    "notice_keys_followup": (
        "Đã xong, bấm một. Chưa xong, bấm hai. Nghe lại, bấm phím sao. "
        "Không muốn nhận cuộc gọi báo tin nữa, bấm không."
    ),
    "notice_keys_followup_referral": (
        "Đã xong, bấm một. Chưa xong, bấm hai. Không liên lạc được nơi đó, bấm ba. "
        "Không muốn nhận cuộc gọi báo tin nữa, bấm không."
    ),
    "notice_keys_meeting": (
        "Nếu chị đến được, bấm một. Nếu không đến được, bấm hai. Nghe lại, bấm phím sao. "
        "Không muốn nhận cuộc gọi báo tin nữa, bấm không."
    ),
    "notice_machine": (
        "Đường dây hỗ trợ người lao động tự do có tin báo cho chị. "
        "Chị gọi lại số này để nghe nhé. Cảm ơn chị."
    ),
    "notice_stopped": (
        "Từ nay đường dây sẽ không gọi báo tin cho chị nữa. Tin nhắn vẫn gửi cho chị như trước."
    ),
    "notice_followup_thanks": "Cảm ơn chị đã trả lời. Chúng tôi đã ghi là việc đã xong.",
    "notice_followup_reopened": (
        "Cảm ơn chị. Hồ sơ đã được mở lại. Người hỗ trợ sẽ sớm liên lạc lại với chị."
    ),
    "notice_answered_before": "Chúng tôi đã có câu trả lời của chị rồi. Cảm ơn chị.",
    "notice_goodbye": "Cảm ơn chị đã nghe. Chúc chị bình an.",
    # Emergency numbers: filled in from EMERGENCY_NUMBERS below.
    "emergency_numbers": "Các số gọi miễn phí. {emergency_free}. {womens_line}.",
}

# The complaint numbers as the report pages read them (neutral words: the caller may not be
# alone), one per category, the same numbers as after KN by SMS (``hotline.categories``).
CATEGORY_SPOKEN: dict[Category, str] = {
    Category.ENFORCEMENT: "Bị thu hàng, bị phạt",
    Category.HARASSMENT: "Bị quấy rối, mất cắp, ép nộp tiền",
    Category.VIOLENCE: "Chị thấy không an toàn",
    Category.PAYMENT: "Bị quỵt tiền, bị lừa",
    Category.HEALTH_INSURANCE: "Bảo hiểm y tế, thẻ khám bệnh",
    Category.SOCIAL_INSURANCE: "Bảo hiểm xã hội, lương hưu",
    Category.RESIDENCE: "Tạm trú",
    Category.CHILDREN: "Chuyện của con",
    Category.HEALTH: "Sức khỏe",
    Category.LEGAL: "Giấy tờ, trợ giúp pháp lý",
    Category.HOUSING: "Nhà ở, chủ nhà trọ",
    Category.OTHER: "Việc khác",
}


def keys_words(number: int) -> str:
    """The keys to press for ``number``: 7 -> "bảy", 12 -> "một, hai" (one key at a time)."""
    return ", ".join(DIGIT_WORDS[int(c)] for c in str(number))


# Texts formatted from FIGURES valid on the day.
TEMPLATES: dict[str, str] = {
    "info_bhyt": (
        "Bảo hiểm y tế hộ gia đình: người có tạm trú cũng tham gia được. "
        "Người thứ nhất đóng khoảng {bhyt_first_year} đồng một năm. "
        "Người thứ hai trở đi đóng ít hơn. Chị hỏi ở phường hoặc ở bưu điện."
    ),
    "info_bhxh": (
        "Bảo hiểm xã hội tự nguyện giúp chị có lương hưu khi về già. "
        "Từ {bhxh_min_age} tuổi là tham gia được. "
        "Mỗi tháng đóng {bhxh_rate} thu nhập chị tự chọn, "
        "thấp nhất khoảng {bhxh_min_month} đồng."
    ),
    "info_bhxh_support": (
        "Nhà nước trả giúp một phần: hộ nghèo {support_poor}, hộ cận nghèo {support_near_poor}, "
        "người dân tộc thiểu số {support_ethnic}, người khác {support_other}, "
        "trong tối đa {support_years} năm. Người thường trú ở Hà Nội được hỗ trợ thêm."
    ),
    "info_tam_tru": (
        "Ở Hà Nội từ {tam_tru_days} ngày trở lên thì cần đăng ký tạm trú. "
        "Tạm trú được tối đa {tam_tru_years} năm, hết hạn thì gia hạn. "
        "Chị đăng ký ở công an phường hoặc trên mạng. Mang theo căn cước và giấy thuê nhà. "
        "Có tạm trú thì dễ làm bảo hiểm và xin học cho con."
    ),
}


def _spoken(on: date, figures: list[Figure] | None) -> dict[str, str]:
    """The words each placeholder stands for, from the figures valid on ``on``."""

    def v(key: str) -> int | Decimal:
        return figure(key, on, figures).value

    bhyt_year = Decimal(v("base_salary_vnd")) * Decimal(v("bhyt_household_rate_pct")) / 100 * 12
    free = ". ".join(f"{label}: {digits_words(number)}" for label, number in EMERGENCY_NUMBERS)
    return {
        "bhyt_first_year": number_words(round_thousand(bhyt_year)),
        "bhxh_min_age": number_words(int(v("bhxh_min_age"))),
        "bhxh_rate": percent_words(v("bhxh_rate_pct")),
        "bhxh_min_month": number_words(round_thousand(v("bhxh_min_month_vnd"))),
        "support_poor": percent_words(v("bhxh_support_poor_pct")),
        "support_near_poor": percent_words(v("bhxh_support_near_poor_pct")),
        "support_ethnic": percent_words(v("bhxh_support_ethnic_pct")),
        "support_other": percent_words(v("bhxh_support_other_pct")),
        "support_years": number_words(int(v("bhxh_support_max_years"))),
        "tam_tru_days": number_words(int(v("tam_tru_after_days"))),
        "tam_tru_years": number_words(int(v("tam_tru_max_years"))),
        "legal_aid_phone": digits_words(LEGAL_AID_PHONE),
        "emergency_free": free,
        "womens_line": f"{WOMENS_LINE[0]}: {digits_words(WOMENS_LINE[1])}",
    }


def build_catalogue(on: date, figures: list[Figure] | None = None) -> dict[str, str]:
    """Every prompt text as spoken on day ``on`` (Hanoi calendar day)."""
    words = _spoken(on, figures)
    catalogue = {key: text.format(**words) for key, text in TEXTS.items()}
    catalogue.update({key: text.format(**words) for key, text in TEMPLATES.items()})
    catalogue.update({f"category_{int(c)}": f"{words}, bấm {keys_words(c)}."
                      for c, words in CATEGORY_SPOKEN.items()})
    # Numbers said as words (a day, a month, an hour, minutes) and the days of the week.
    catalogue.update({f"number_{n}": number_words(n) for n in range(10, 60)})
    catalogue.update({f"weekday_{d}": day for d, day in enumerate(WEEKDAY_WORDS)})
    # Digits, for reading a case number one digit at a time.
    catalogue.update({f"digit_{d}": word for d, word in enumerate(DIGIT_WORDS)})
    return catalogue


def today_hanoi() -> date:
    return datetime.now(HANOI).date()


# The catalogue for today. A long-running process (or a build job) that needs the texts of
# another day calls build_catalogue(day) instead.
CATALOGUE: dict[str, str] = build_catalogue(today_hanoi())
