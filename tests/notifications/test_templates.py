"""WeChat's field limits: a value over its type's limit makes WeChat refuse the whole
message (47003), so every value is cut or formatted before it is sent."""
from __future__ import annotations

from datetime import date, datetime, timezone

from hypothesis import given
from hypothesis import strategies as st

from coop.notifications.templates import amount, format_value, render

LONG_COOP = "单县终兴镇毛庄村党支部领办富民果蔬种植专业合作社"


def test_thing_is_cut_to_twenty_characters_with_an_ellipsis():
    assert len(LONG_COOP) > 20
    assert format_value("thing1", LONG_COOP) == LONG_COOP[:19] + "…"
    assert format_value("thing7", "冷库") == "冷库"
    assert format_value("thing2", "第一行\n第二行") == "第一行 第二行"
    assert format_value("thing3", None) == "无"


def test_name_is_ten_chinese_or_twenty_latin_characters():
    assert format_value("name1", "欧阳中华人民共和国万岁万万岁") == "欧阳中华人民共和国…"
    assert format_value("name2", "Zhang San") == "Zhang San"
    assert format_value("name2", "A" * 25) == "A" * 19 + "…"


def test_phrase_is_five_characters():
    assert format_value("phrase2", "已批准") == "已批准"
    assert format_value("phrase2", "审核未能通过了") == "审核未能…"


def test_amount_is_digits_and_a_unit():
    assert amount(123_456) == "1234.56元"
    assert amount(5) == "0.05元"
    assert amount(-1_000) == "-10.00元"
    assert amount(123_456_789_012) == "1234567890元"      # ten digits at most
    assert format_value("amount3", 100) == "1.00元"


def test_time_and_date_are_chinas_clock_as_wechat_writes_them():
    moment = datetime(2024, 6, 30, 17, 5, tzinfo=timezone.utc)        # 01:05 next day in China
    assert format_value("time4", moment) == "2024年7月1日 01:05"
    assert format_value("time4", moment.isoformat()) == "2024年7月1日 01:05"
    assert format_value("date3", moment.isoformat()) == "2024年7月1日"
    assert format_value("date3", date(2024, 3, 9).isoformat()) == "2024年3月9日"
    assert format_value("time2", date(2024, 3, 9)) == "2024年3月9日"


def test_render_follows_the_layout_and_its_override():
    fields = {"task": "补助申请待审批", "subject": LONG_COOP, "at": "2024-01-02T03:04:00+00:00"}
    assert render("task_created", fields) == {
        "thing1": {"value": "补助申请待审批"}, "thing2": {"value": LONG_COOP[:19] + "…"},
        "time3": {"value": "2024年1月2日 11:04"}}
    custom = {"task_created": {"thing4": "subject", "time9": "at"}}
    assert render("task_created", fields, custom) == {
        "thing4": {"value": LONG_COOP[:19] + "…"}, "time9": {"value": "2024年1月2日 11:04"}}


@given(st.text(max_size=80), st.sampled_from(["thing1", "name2", "phrase3",
                                               "character_string4", "number5"]))
def test_no_value_is_ever_over_its_limit(text, keyword):
    limit = {"thing": 20, "name": 20, "phrase": 5, "character_string": 32, "number": 32}
    value = format_value(keyword, text)
    assert 0 < len(value) <= limit[keyword.rstrip("0123456789")]
    assert "\n" not in value


@given(st.integers(min_value=-(10**12 - 1), max_value=10**12 - 1))
def test_an_amount_keeps_at_most_ten_digits(fen):
    """Up to 9,999,999,999.99 yuan (no county moves more in one line)."""
    text = amount(fen)
    digits = [c for c in text if c.isdigit()]
    assert text.endswith("元") and 0 < len(digits) <= 10
