"""JSON Schema format checker for the application's forms.

`FORMAT_CHECKER` is a `jsonschema.FormatChecker` with every format jsonschema knows plus
`"unified-social-credit-code"` (统一社会信用代码, GB 32100-2015, see `domain.uscc`). Pass it to a
validator (`Draft202012Validator(schema, format_checker=FORMAT_CHECKER)`): a bad code then fails
validation with the reason (wrong length, lower case, forbidden character, check character).
As jsonschema does for every format, non-string values are left to the schema's `type`.
"""

from jsonschema import FormatChecker

from domain.uscc import uscc_error

USCC_FORMAT = "unified-social-credit-code"

FORMAT_CHECKER = FormatChecker()


@FORMAT_CHECKER.checks(USCC_FORMAT, raises=ValueError)
def check_unified_social_credit_code(instance: object) -> bool:
    if not isinstance(instance, str):
        return True
    error = uscc_error(instance)
    if error:
        raise ValueError(error)
    return True


ATTACHMENT_FORMAT = "attachment"


def form_format_checker(session) -> FormatChecker:
    """FORMAT_CHECKER plus "attachment": an integer id of an uploaded file that exists (R-6.1
    materials are real files kept with the case)."""
    from domain.models import Attachment

    checker = FormatChecker()
    checker.checkers = dict(FORMAT_CHECKER.checkers)

    @checker.checks(ATTACHMENT_FORMAT, raises=ValueError)
    def check_attachment(instance: object) -> bool:
        if not isinstance(instance, int) or isinstance(instance, bool):
            return True  # the schema's type says what it must be
        if not (0 < instance < 2**31) or session.get(Attachment, instance) is None:
            raise ValueError(f"no uploaded file with id {instance}")
        return True

    return checker
