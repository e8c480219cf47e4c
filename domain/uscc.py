"""Unified social credit code (统一社会信用代码, GB 32100-2015) check for client records (R-6.1).

The code has 18 characters from the 31-character set `0-9` and `A-Z` without I, O, Z, S, V:

- position 1: registration authority code (登记管理部门代码, e.g. 9 = market regulation);
- position 2: organisation type code (机构类别代码, e.g. 1 = enterprise);
- positions 3-8: administrative division code (登记管理机关行政区划码), digits only;
- positions 9-17: organisation code (主体标识码, GB 11714);
- position 18: check character over positions 1-17: with the character values v_i (their index
  in the set) and the weights w_i = 3^(i-1) mod 31,
  c = 31 - (sum(v_i x w_i) mod 31), c = 31 becomes 0, and the check character is the set's c-th.

Only the structure and the check character are verified, not whether the code was ever issued,
nor the lists of authority/type codes (the standard's amendments have added values). Upper case
only: a lower-case code is refused with its own message rather than silently normalised, so the
stored value is the one printed on the business licence.
"""

USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
USCC_LENGTH = 18

_VALUES = {char: value for value, char in enumerate(USCC_CHARSET)}
_EXCLUDED_LETTERS = frozenset("IOZSV")


def uscc_check_char(first17: str) -> str:
    """The check character (position 18) for the first 17 characters of a code."""
    if len(first17) != USCC_LENGTH - 1 or any(char not in _VALUES for char in first17):
        raise ValueError("need 17 characters from the unified social credit code character set")
    total = sum(_VALUES[char] * weight for char, weight in zip(first17, USCC_WEIGHTS, strict=True))
    check = 31 - total % 31
    return USCC_CHARSET[0 if check == 31 else check]


def uscc_error(code: object) -> str | None:
    """Why `code` is not a valid unified social credit code, or None when it is valid."""
    label = "统一社会信用代码 (unified social credit code)"
    if not isinstance(code, str):
        return f"{label} must be a string, got {type(code).__name__}"
    if len(code) != USCC_LENGTH:
        return f"{label} must have {USCC_LENGTH} characters, got {len(code)}"
    if any(char.islower() for char in code):
        return f"{label} must be written in upper case: {code.upper()}"
    bad = []
    for position, char in enumerate(code, 1):
        if char not in _VALUES:
            reason = " (I, O, Z, S and V are never used)" if char in _EXCLUDED_LETTERS else ""
            bad.append(f"{char!r} at position {position}{reason}")
    if bad:
        return f"{label} has characters outside 0-9 and A-Z without I, O, Z, S, V: " + ", ".join(
            bad
        )
    if not code[2:8].isdigit():
        return f"{label} positions 3-8 (administrative division code) must be digits: {code[2:8]}"
    expected = uscc_check_char(code[:17])
    if code[17] != expected:
        return (
            f"{label} check character (position 18) is {code[17]!r}, expected {expected!r}: "
            "the code is mistyped"
        )
    return None


def is_valid_uscc(code: object) -> bool:
    """True when `code` is an 18-character upper-case code whose check character matches."""
    return uscc_error(code) is None
