"""Check-character validators against published-format examples worked out by hand.

GB 11643-1999 (citizen ID): check = "10X98765432"[Σ digit_i × weight_i mod 11], weights
7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2.
GB 32100-2015 (unified social credit code): check = 31 − (Σ value_i × weight_i mod 31),
weights 1 3 9 27 19 26 16 17 20 29 25 13 8 24 10 30 28, alphabet without I O S V Z.
"""
from __future__ import annotations

import pytest

from coop.validators import (is_valid_credit_code, is_valid_id_card, is_valid_phone,
                             is_valid_village_code)


def test_the_standards_own_id_example_with_check_x_is_valid():
    # 110105 19491231 002 → 1·7+1·9+0·10+1·5+0·8+5·4+1·2+9·1+4·6+9·3+1·7+2·9+3·10+1·5+0·8
    #                        +0·4+2·2 = 167; 167 mod 11 = 2 → "10X98765432"[2] = "X"
    assert is_valid_id_card("11010519491231002X")
    assert is_valid_id_card("11010519491231002x")  # a lower-case x is what people type


def test_a_shan_county_id_number_worked_by_hand_is_valid():
    # 371722 19750601 123: 3·7+7·9+1·10+7·5+2·8+2·4+1·2+9·1+7·6+5·3+0·7+6·9+0·10+1·5
    #                       +1·8+2·4+3·2 = 302; 302 mod 11 = 5 → "10X98765432"[5] = "7"
    assert is_valid_id_card("371722197506011237")


@pytest.mark.parametrize("number, why", [
    ("110105194912310021", "wrong check character"),
    ("371722197506011238", "wrong check character"),
    ("37172219750601123", "17 characters"),
    ("3717221975060112377", "19 characters"),
    ("37172219750601123A", "letter other than X"),
    ("371722197513011230", "month 13"),
    ("371722197502301234", "30 February"),
    ("371722220001011234", "born in the future"),
    ("", "empty"),
])
def test_invalid_id_numbers_are_refused(number, why):
    assert not is_valid_id_card(number), why


def test_published_credit_codes_worked_by_hand_are_valid():
    # 91350100M000100Y4 (the standard's example): Σ = 9+3+27+135+0+26+0+0+21·20+0+0+0+8+0+0
    #   +30·30+4·28 = 1640; 1640 mod 31 = 28; 31 − 28 = 3 → "3"
    assert 9 + 3 + 27 + 135 + 26 + 21*20 + 8 + 30*30 + 4*28 == 1640
    assert is_valid_credit_code("91350100M000100Y43")
    # 91110108551385082 (a Beijing company): Σ = 999; 999 mod 31 = 7; 31 − 7 = 24 → "Q"
    assert 9*1 + 1*3 + 1*9 + 1*27 + 0*19 + 1*26 + 0*16 + 8*17 + 5*20 + 5*29 + 1*25 + 3*13 \
        + 8*8 + 5*24 + 0*10 + 8*30 + 2*28 == 999
    assert is_valid_credit_code("91110108551385082Q")


@pytest.mark.parametrize("code, why", [
    ("91350100M000100Y44", "wrong check character"),
    ("91110108551385082R", "wrong check character"),
    ("91350100M000100Y4", "17 characters"),
    ("91350100M000I00Y43", "I is not in the alphabet"),
    ("91350100M000O00Y43", "O is not in the alphabet"),
    ("9135010AM000100Y43", "the region code must be digits"),
    ("", "empty"),
])
def test_invalid_credit_codes_are_refused(code, why):
    assert not is_valid_credit_code(code), why


@pytest.mark.parametrize("phone, ok", [
    ("13812345678", True), ("19912345678", True), ("12812345678", False),
    ("1381234567", False), ("138123456789", False), ("+8613812345678", False),
])
def test_mobile_numbers(phone, ok):
    assert is_valid_phone(phone) is ok


def test_village_codes_have_twelve_digits():
    assert is_valid_village_code("371722101201")
    assert not is_valid_village_code("37172210120")
