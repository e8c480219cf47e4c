"""The domain's form checks (domain/form_checks.py, declared by forms as `"x-checks"`) handed to
the engine through the one registry: the engine's task context becomes the domain's case."""

import domain.checks_application  # noqa: F401  (registers the contract/programme checks)
import domain.checks_audit  # noqa: F401  (registers the audit forms' checks)
import domain.checks_fees  # noqa: F401  (registers the fees-paid restoration check, R-9.5.1e)
import domain.checks_nc  # noqa: F401  (registers the nonconformity forms' checks)
import domain.checks_plaque  # noqa: F401  (registers the bronze plaque check, R-10.1f)
import domain.checks_studio  # noqa: F401  (registers the definition review form check)
import domain.checks_team  # noqa: F401  (registers the team appointment's check, R-7.2.1)
import domain.recertification_review  # noqa: F401  (registers the R-8.11 review check)
import domain.site_extension  # noqa: F401  (registers the new site's decision check, R-9.4.1)
import domain.surveillance_review  # noqa: F401  (registers the R-8.10.2 review check)
import domain.suspension_scope  # noqa: F401  (registers the R-9.5.1 scope reduction check)
from domain.form_checks import FORM_CHECKS, CheckCase, FormCheck, problems
from engine.registry import FormCheck as EngineFormCheck
from engine.registry import GuardContext
from handlers.registry import REGISTRY


def _engine_check(check: FormCheck) -> EngineFormCheck:
    def run(ctx: GuardContext) -> dict[str, list[str]]:
        case = CheckCase(
            session=ctx.session,
            now=ctx.now,
            data=ctx.data,
            settings=ctx.settings,
            actor=ctx.actor,
        )
        return problems(check, case)

    return run


def register_form_checks() -> None:
    for name, check in FORM_CHECKS.items():
        if REGISTRY.form_check(name) is None:
            REGISTRY.add_form_check(name, _engine_check(check))


register_form_checks()
