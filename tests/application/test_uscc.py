"""`domain.uscc` and `domain.formats`: unified social credit code (GB 32100-2015), no database."""

import pytest
from jsonschema import Draft202012Validator, FormatChecker, ValidationError

from domain.formats import FORMAT_CHECKER, USCC_FORMAT
from domain.uscc import USCC_CHARSET, is_valid_uscc, uscc_check_char, uscc_error

# A commonly cited code; it satisfies the check-character algorithm.
CITED_VALID = "91350100M000100Y43"
# Computed for this test: the check character of 91110108MA01C2D3E is G.
COMPUTED_VALID = "91110108MA01C2D3EG"
WEIGHTS = [pow(3, i, 31) for i in range(17)]


def reference_check_char(first17: str) -> str:
    total = sum(USCC_CHARSET.index(c) * w for c, w in zip(first17, WEIGHTS, strict=True))
    return USCC_CHARSET[(31 - total % 31) % 31]


def test_charset_and_weights_follow_the_standard() -> None:
    assert len(USCC_CHARSET) == 31
    assert not set("IOZSV") & set(USCC_CHARSET)
    assert WEIGHTS == [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]


@pytest.mark.parametrize("code", [CITED_VALID, COMPUTED_VALID, "12100000400000624D"])
def test_valid_codes(code: str) -> None:
    assert is_valid_uscc(code)
    assert uscc_error(code) is None
    assert uscc_check_char(code[:17]) == reference_check_char(code[:17]) == code[17]


def test_check_value_31_maps_to_zero() -> None:
    # 17 zeros: sum 0, 31 - 0 = 31 -> 0
    assert uscc_check_char("0" * 17) == "0"
    assert is_valid_uscc("0" * 18)


def test_every_wrong_check_character_is_refused() -> None:
    for char in USCC_CHARSET:
        code = CITED_VALID[:17] + char
        assert is_valid_uscc(code) == (char == "3"), code
    error = uscc_error(CITED_VALID[:17] + "4")
    assert error is not None
    assert "check character" in error and "expected '3'" in error


def test_single_typo_is_caught() -> None:
    typo = CITED_VALID[:9] + "N" + CITED_VALID[10:]  # M000100Y4 -> MN00100Y4
    assert not is_valid_uscc(typo)
    assert "check character" in uscc_error(typo)


@pytest.mark.parametrize("letter", list("IOZSV"))
def test_letters_never_used_are_refused(letter: str) -> None:
    code = CITED_VALID[:10] + letter + CITED_VALID[11:]
    assert not is_valid_uscc(code)
    error = uscc_error(code)
    assert f"'{letter}' at position 11" in error
    assert "I, O, Z, S and V are never used" in error


def test_other_characters_are_refused() -> None:
    error = uscc_error("91350100M000100-43")
    assert error is not None and "'-' at position 16" in error
    assert not is_valid_uscc("91350100M000100Y4 ")


@pytest.mark.parametrize("code", ["", "91350100M000100Y4", "91350100M000100Y433", "9" * 30])
def test_wrong_length(code: str) -> None:
    assert not is_valid_uscc(code)
    assert f"must have 18 characters, got {len(code)}" in uscc_error(code)


def test_lowercase_is_refused_with_its_own_message() -> None:
    lower = CITED_VALID.lower()
    assert not is_valid_uscc(lower)
    assert uscc_error(lower) == (
        "统一社会信用代码 (unified social credit code) must be written in upper case: "
        + CITED_VALID
    )
    assert "upper case" in uscc_error("91110108ma01c2d3eg")


def test_division_code_must_be_digits() -> None:
    first17 = "91A50100M000100Y4"
    code = first17 + uscc_check_char(first17)  # correct check character, bad division code
    assert "positions 3-8" in uscc_error(code)
    assert not is_valid_uscc(code)


def test_non_strings_are_refused() -> None:
    assert not is_valid_uscc(None)
    assert not is_valid_uscc(913501001000100)
    assert "must be a string" in uscc_error(None)


def test_check_char_needs_17_valid_characters() -> None:
    with pytest.raises(ValueError):
        uscc_check_char("9135")
    with pytest.raises(ValueError):
        uscc_check_char("91350100I000100Y4")


# --- JSON Schema format -----------------------------------------------------------------------

SCHEMA = {"type": "string", "format": USCC_FORMAT}


def test_format_name() -> None:
    assert USCC_FORMAT == "unified-social-credit-code"
    assert USCC_FORMAT in FORMAT_CHECKER.checkers


def test_format_checker_accepts_a_valid_code() -> None:
    Draft202012Validator(SCHEMA, format_checker=FORMAT_CHECKER).validate(CITED_VALID)
    assert FORMAT_CHECKER.conforms(COMPUTED_VALID, USCC_FORMAT)


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("91350100M000100Y44", "check character"),
        (CITED_VALID.lower(), "upper case"),
        ("91350100M00O100Y43", "'O' at position 12"),
        ("91350100M000100Y4", "18 characters"),
    ],
)
def test_format_checker_rejects_bad_codes_in_schema_validation(code: str, reason: str) -> None:
    validator = Draft202012Validator(SCHEMA, format_checker=FORMAT_CHECKER)
    with pytest.raises(ValidationError) as caught:
        validator.validate(code)
    assert caught.value.validator == "format"
    assert "is not a 'unified-social-credit-code'" in caught.value.message
    assert reason in str(caught.value.cause)
    assert not FORMAT_CHECKER.conforms(code, USCC_FORMAT)


def test_format_inside_an_object_schema() -> None:
    schema = {
        "type": "object",
        "properties": {"uscc": SCHEMA, "website": {"type": "string", "format": "email"}},
    }
    validator = Draft202012Validator(schema, format_checker=FORMAT_CHECKER)
    errors = list(validator.iter_errors({"uscc": "91350100M000100Y44", "website": "not-an-email"}))
    assert sorted(list(e.path)[0] for e in errors) == ["uscc", "website"]  # standard formats kept


def test_non_strings_are_left_to_the_type_keyword() -> None:
    validator = Draft202012Validator(SCHEMA, format_checker=FORMAT_CHECKER)
    errors = list(validator.iter_errors(12345))
    assert [e.validator for e in errors] == ["type"]


def test_default_format_checker_is_not_changed() -> None:
    assert USCC_FORMAT not in FormatChecker().checkers
