"""Every SMS the line sends, in one place.

Written in Vietnamese and sent unaccented (``hotline.text.unaccent``); each fits one
GSM-7 SMS (160 characters) with realistic values filled in, which a test checks.
Wording is neutral enough for a shared phone: a case number, never what it is about.
"""

from __future__ import annotations

# Neutral words for each category (DOMAIN.md), safe on a shared phone.
CATEGORY_WORDS = {
    1: "hang hoa, xu phat",
    2: "bi lam phien",
    3: "can ho tro rieng",
    4: "tien cong, mua ban",
    5: "BHYT",
    6: "BHXH",
    7: "tam tru",
    8: "tre em",
    9: "suc khoe",
    10: "giay to",
    11: "nha o",
    12: "khac",
}

# How a member hears the state of their case (SMS TT and the voice menu agree).
# How a peer educator reads back a referral outcome (KQ), unaccented.
OUTCOME_WORDS = {
    "reached": "da gap noi ho tro",
    "helped": "da duoc giup",
    "not_helped": "khong duoc giup",
    "unreachable": "khong lien lac duoc",
}

STATUS_WORDS = {
    "new": "da nhan, dang tim nguoi ho tro",
    "acknowledged": "da co nguoi nhan ho tro",
    "in_progress": "dang duoc ho tro",
    "referred": "da gioi thieu noi ho tro",
    "resolved": "da giai quyet xong",
    "closed": "da dong",
    "closed_unresolved": "da dong",
    "lost_contact": "da dong vi khong lien lac duoc",
}

TEMPLATES: dict[str, str] = {
    # Members
    "help": (
        "STONES: DK dang ky; KN <so> <noi dung> bao van de; TT <so> ho so; GOI goi lai; "
        "HOP lich hop; BHYT BHXH TAMTRU PHAPLY TRATTU BINHDANG ANTOAN; HUY ngung; XOA xoa"
    ),
    # The second SMS of HD: how she is told (the line's notices), by call, SMS or both.
    "help_channel": (
        "STONES: Muon nghe tin bao qua cuoc goi: NGHE. Chi nhan tin nhan: TIN. Ca hai: CAHAI"
    ),
    "channel_voice": (
        "STONES: Da ghi nhan. Tu nay duong day goi dien de bao tin cho chi/anh. "
        "Muon nhan tin nhan lai: TIN"
    ),
    "channel_sms": (
        "STONES: Da ghi nhan. Tu nay duong day bao tin bang tin nhan. "
        "Muon nghe qua cuoc goi: NGHE"
    ),
    "channel_both": (
        "STONES: Da ghi nhan. Tu nay duong day bao tin bang ca tin nhan va cuoc goi. "
        "Chi nhan tin nhan: TIN"
    ),
    # The third SMS of HD: the numbers after KN, the same list as the voice menu's.
    "help_categories": "KN/CG so: {categories}",
    "consent_ask": (
        "STONES: Chi/anh dong y de duong day luu so dien thoai va thong tin gui den de ho tro? "
        "Tra loi DONGY hoac KHONG. Ngung bat ky luc nao: HUY"
    ),
    "registered": (
        "STONES: Da dang ky. Nhan KN <noi dung> khi gap kho khan, GOI de duoc goi lai, "
        "HD xem huong dan. Cam on chi/anh!"
    ),
    "registered_group": (
        "STONES: Da dang ky vao nhom {group}. Nhan KN <noi dung> khi gap kho khan, "
        "HOP xem lich hop, HD xem huong dan."
    ),
    "consent_refused": (
        "STONES: Da ghi nhan. Chung toi chi giu so dien thoai nay va cau tra loi KHONG, da xoa "
        "ten va tin nhan. Khi can: DK hoac goi {hotline}."
    ),
    "unknown_group": (
        "STONES: Khong tim thay ma nhom {code}. Hoi nhom truong ma dung, roi nhan lai DK ten "
        "ma nhom."
    ),
    "case_opened": (
        "STONES: Da nhan, so ho so cua chi/anh la {number}. Nguoi ho tro se lien lac som. "
        "Hoi tinh trang: TT {number}"
    ),
    "case_opened_emergency": (
        "STONES: Da nhan, so ho so {number}. Nguoi ho tro se goi lai ngay. Khan cap goi 113 "
        "cong an, 115 cap cuu, 111 tre em, 1900969680 Nha Binh Yen."
    ),
    "emergency_again": (
        "STONES: Da nhan them tin, ho so {number}. Nguoi ho tro dang duoc bao. Khan cap goi "
        "113, 115, 111, 1900969680."
    ),
    "complaint_empty": "STONES: Xin nhan KN roi noi dung, vi du: KN bi thu hang o cho. Hoac goi {hotline}.",
    "case_status": "STONES: Ho so {number}: {status}. Can them ho tro: GOI",
    "case_not_found": "STONES: Khong tim thay ho so so {number} cua so dien thoai nay. Hoi them: GOI",
    "status_no_number": "STONES: Xin nhan TT va so ho so, vi du: TT 1024",
    "callback_queued": "STONES: Da ghi nhan. Chung toi se goi lai cho chi/anh som, trong gio 8h-21h.",
    "opted_out": "STONES: Da ngung nhan tin. Khi muon nhan lai, nhan DK. Khi can giup, goi {hotline}.",
    "erase_requested": (
        "STONES: Da nhan yeu cau xoa thong tin. Nhan vien se xu ly trong 2 ngay lam viec "
        "va bao lai."
    ),
    "erased": (
        "STONES: Thong tin cua chi/anh da duoc xoa theo yeu cau. Ban sao luu cu tu xoa sau "
        "{days} ngay. Cam on chi/anh."
    ),
    "free_text": (
        "STONES: Da nhan tin nhan, nhan vien se doc. Bao van de: KN <noi dung>. Duoc goi lai: "
        "GOI. Huong dan: HD"
    ),
    "flood_ack": (
        "STONES: Chung toi da nhan cac tin cua chi, se doc het va tra loi som. Khan cap goi 113."
    ),
    "not_understood": "STONES: Chua hieu tin nhan. Nhan HD de xem huong dan hoac goi {hotline}.",
    "no_pending": "STONES: Khong co cau hoi nao dang cho tra loi. Nhan HD de xem huong dan.",
    "no_meeting": "STONES: Chua co lich hop sap toi cua nhom. Hoi nhom truong de biet them.",
    "meeting_reminder": "STONES: Nhac hop nhom {group} luc {when} tai {place}. Tra loi CO neu di, KHONG neu ban.",
    "meeting_moved": "STONES: Hop nhom {group} doi sang {when} tai {place}. Tra loi CO neu di, KHONG neu ban.",
    "meeting_series_stopped": "STONES: Nhom {group} tam dung cac buoi hop dinh ky tu {when}. Lich moi se bao sau. Cam on!",
    "meeting_cancelled": "STONES: Buoi hop nhom {group} luc {when} da huy. Lich moi se bao sau. Cam on!",
    "bhyt_renewal": "STONES: The BHYT cua chi/anh het han ngay {date}. Nho gia han de khong gian doan. Can giup: KN 5 hoac GOI",
    "attendance_list": "STONES: Diem danh hop {group} {when}: {names}. Nhan DD so, vd: DD 1 3 5",
    "attendance_saved": "STONES: Da ghi {count} nguoi co mat buoi hop {group} {when}. Cam on ban!",
    "attendance_none": "STONES: Khong co buoi hop nao cua nhom ban trong 7 ngay qua de diem danh.",
    "rsvp_yes": "STONES: Cam on! Da ghi nhan chi/anh se den hop. Neu ban, nhan KHONG.",
    "rsvp_no": "STONES: Da ghi nhan chi/anh khong den duoc. Hen gap lan sau!",
    "next_meeting": "STONES: Hop nhom {group} luc {when} tai {place}. Tra loi CO neu di, KHONG neu ban.",
    # Information texts: every figure comes from hotline.figures (valid on the day sent).
    "info_bhyt": (
        "BHYT ho gia dinh: nguoi tam tru cung tham gia duoc, nguoi thu nhat khoang "
        "{bhyt_first_year}d/nam. Hoi UBND phuong, BHXH co so. Can giup: KN 5 hoac GOI"
    ),
    "info_bhxh": (
        "BHXH tu nguyen: tu {bhxh_min_age} tuoi, dong {bhxh_rate} muc tu chon, thap nhat "
        "{bhxh_min_month}d/thang; Nha nuoc ho tro {support_other}-{support_poor}. Can giup: KN 6"
    ),
    "info_tamtru": (
        "Tam tru: dang ky sau {tam_tru_days} ngay o, toi da {tam_tru_years} nam, gia han duoc; "
        "tai cong an phuong hoac online. Can giup: KN 7 <noi dung> hoac GOI"
    ),
    "info_phaply": (
        "Tro giup phap ly mien phi: goi 18001233 (gio hanh chinh). Can giup them: "
        "KN 10 <noi dung> hoac GOI"
    ),
    "info_trattu": (
        "Khi bi phat, thu hang: doi trat tu phai lap bien ban ghi ro hang bi giu, dua chi 1 ban. "
        "Khong duoc danh, chui. Giu bien ban. Can giup: KN 1"
    ),
    "info_binhdang": (
        "Binh dang gioi: tien bac, viec nha, quyet dinh trong gia dinh la cua ca hai vo chong. "
        "Chi co quyen tu chon viec lam. Hoi them: GOI"
    ),
    "info_antoan": (
        "An toan: luu so 1900969680 (Ngoi nha Binh yen, 24/7) va 113. De san giay to, tien, "
        "so nguoi than. Can noi chuyen rieng: GOI"
    ),
    # Case life, to members
    "case_waiting": (
        "STONES: Ho so {number} chua co nguoi nhan, chung toi van dang tim nguoi ho tro. "
        "Can gap, goi {hotline}."
    ),
    "case_accepted": "STONES: Ho so {number} da co nguoi nhan ho tro. Ho se lien lac voi chi/anh.",
    "case_referred": "STONES: Ho so {number}: xin lien he {provider}, so {phone}. Can them: GOI",
    "case_referred_no_phone": (
        "STONES: Ho so {number}: nguoi ho tro se huong dan chi/anh den {provider}. Can them: GOI"
    ),
    "case_resolved": "STONES: Ho so {number} da giai quyet. Vai ngay toi chung toi se hoi lai y kien.",
    "followup_ask": (
        "STONES: Ho so {number} da duoc giai quyet chua? Tra loi 1 neu da xong, 2 neu chua xong."
    ),
    "followup_ask_referral": (
        "STONES: Ho so {number} da duoc giai quyet chua, {code} co giup duoc khong? Tra loi "
        "1 da xong, 2 chua xong, 3 khong lien lac duoc noi do."
    ),
    "followup_thanks": "STONES: Cam on chi/anh da tra loi. Khi can giup, nhan KN hoac GOI.",
    "followup_reopened": (
        "STONES: Ho so {number} da mo lai, nguoi ho tro se lien lac lai som. Cam on chi/anh."
    ),
    # Peer educators
    "alert": (
        "STONES: Ho so moi {number} ({category}). Tra loi NHAN {number} de nhan. "
        "Xem chi tiet tren trang quan ly."
    ),
    "alert_emergency": (
        "STONES KHAN: Ho so {number} ({category}) can ho tro ngay. Nhan NHAN {number} "
        "va goi lai nguoi bao."
    ),
    "escalated": (
        "STONES: Ho so {number} ({category}) chua ai nhan sau {hours} gio. Nhan NHAN {number} "
        "de nhan."
    ),
    "reminder_stale": (
        "STONES: Ho so {number} chua cap nhat {days} ngay. Nhan GHI {number} <ghi chu> hoac "
        "XONG {number}."
    ),
    "pe_accepted": "STONES: Ban da nhan ho so {number}. Goi nguoi bao: {phone}. Ghi chu: GHI {number} <noi dung>",
    "pe_noted": "STONES: Da ghi chu vao ho so {number}.",
    "pe_referred": "STONES: Da chuyen ho so {number} den {provider}. Nguoi bao da nhan so lien he.",
    "pe_resolved": "STONES: Da dong ho so {number}. Cam on ban!",
    "pe_returned": "STONES: Da tra ho so {number}. He thong se chuyen cho nguoi khac.",
    "pe_list": "STONES: Ho so dang mo cua ban: {numbers}",
    "pe_list_empty": "STONES: Ban khong co ho so nao dang mo.",
    "pe_refused": "STONES: Khong thuc hien duoc voi ho so {number}. Lien he dieu phoi vien neu can.",
    "pe_unknown_provider": "STONES: Khong co noi ho tro ma {code}. Cac ma: {codes}",
    "pe_provider_no_phone": (
        "STONES: {code} chua co so dien thoai, nguoi bao khong lien he duoc qua SMS. "
        "Chon ma co so: {codes}"
    ),
    "pe_outcome_saved": "STONES: Da ghi ket qua ho so {number} tai {provider}: {outcome}. Cam on ban!",
    "pe_outcome_help": (
        "STONES: Ghi ket qua chuyen gui: KQ {number} 1 da gap, 2 da duoc giup, 3 khong duoc "
        "giup, 4 khong lien lac duoc"
    ),
    "pe_outcome_no_referral": "STONES: Ho so {number} chua chuyen den noi ho tro nao. Chuyen: CHUYEN {number} <ma>",
    "minutes_saved": "STONES: Da ghi bien ban hop {group} ngay {when}: {count} nguoi, chu de {topics}. Cam on ban!",
    "minutes_help": (
        "STONES: Bien ban: BB <so nguoi> <chu de> [ghi chu]. Chu de: TTDT BHYT BHXH TAMTRU GIOI "
        "ANTOAN PHAPLY KHAC. Vd: BB 12 BHYT TAMTRU"
    ),
    "minutes_no_meeting": "STONES: Khong co buoi hop nao cua nhom ban trong 7 ngay qua de ghi bien ban.",
    "forum_follow_up": (
        "STONES: Den ngay xem lai cam ket cua dien dan ngay {when} (so {number}). "
        "Xem tren trang quan ly."
    ),
    "pe_need_number": "STONES: Thieu so ho so. Vi du: {example}",
    "case_moved": "STONES: Ho so {number} da chuyen cho nguoi khac ho tro. Cam on ban.",
    "reopened_alert": "STONES: Ho so {number} duoc mo lai (nguoi bao chua hai long). Nhan NHAN {number}.",
    # Coordinators
    "device_silent": (
        "STONES: May nhan tin {name} mat lien lac {minutes} phut. Tin cho gui da chuyen sang "
        "may khac. Kiem tra pin, song, tien SIM va ung dung."
    ),
}


def category_list() -> str:
    """'1 hang hoa, xu phat; 2 ...': the numbers after KN, as HD's second SMS tells them."""
    return ";".join(f"{code} {words}" for code, words in CATEGORY_WORDS.items())


def render(key: str, **values) -> str:
    """The template ``key`` filled with ``values``."""
    if key == "help_categories":
        values.setdefault("categories", category_list())
    return TEMPLATES[key].format(**values)
