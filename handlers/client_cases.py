"""Engine hook: a certification a client starts is bound to the client's own organisation
(issue 10, R-11). The organisation comes from the starting user's account, never from the
request or the start data. An organisation has one running application at a time (409 for a
second). A client without an organisation is refused by the web and the API before the start."""

from sqlalchemy import exists, or_, select

from certflow.models import User
from domain.client_cases import (
    OPEN_APPLICATION_STATUSES,
    ORGANISATION_BOUND_PROCESSES,
    bind_case,
)
from domain.models import Application, Organisation
from domain.models_clients import CaseBinding
from engine.errors import ConflictError
from engine.hooks import InstanceStarted
from engine.query_scope import running_instance_exists
from handlers.registry import on_event

CLIENT_ROLE = "client"


@on_event(InstanceStarted)
def bind_client_case(event: InstanceStarted) -> None:
    if event.process_id not in ORGANISATION_BOUND_PROCESSES:
        return
    session = event.session
    user = session.scalars(select(User).where(User.username == event.actor)).first()
    if user is None or not user.has_role(CLIENT_ROLE) or user.roles - {CLIENT_ROLE}:
        return  # staff start cases on a client's behalf; the application links them
    if user.organisation_id is None:
        # The web and the API refuse such a start (webapp/client_home.py, api/routes.py); an
        # engine-level start (tests, scripts) keeps the older path: the application links it.
        return
    # Serialise the starts of one organisation (PostgreSQL; SQLite has one writer anyway).
    session.scalars(
        select(Organisation.id).where(Organisation.id == user.organisation_id).with_for_update()
    ).first()
    if has_running_application(session, user.organisation_id, event.instance_id):
        raise ConflictError("the organisation has an application in progress: one at a time")
    bind_case(
        session,
        instance_id=event.instance_id,
        organisation_id=user.organisation_id,
        process_id=event.process_id,
        started_by=event.actor,
        now=event.now,
    )


def has_running_application(session, organisation_id: int, except_instance: int) -> bool:
    """A certification of the organisation is still running: a bound case or an open
    application whose instance runs."""

    def bound(instance_id, business_key):
        return exists(
            select(CaseBinding.id)
            .where(
                CaseBinding.organisation_id == organisation_id,
                CaseBinding.instance_id == instance_id,
            )
            .correlate_except(CaseBinding)
        )

    def applied(instance_id, business_key):
        return exists(
            select(Application.id)
            .where(
                Application.organisation_id == organisation_id,
                Application.status.in_(OPEN_APPLICATION_STATUSES),
                or_(Application.instance_id == instance_id, Application.number == business_key),
            )
            .correlate_except(Application)
        )

    return bool(
        session.scalar(
            select(
                or_(
                    running_instance_exists(bound, except_instance),
                    running_instance_exists(applied, except_instance),
                )
            )
        )
    )
