"""Who may see which task, process instance and attachment (R-11): one set of rules for every
blueprint.

The rules
---------
* `admin` and `quality_manager` see every task; `admin`, `quality_manager` and `process_owner`
  see every process instance (SEE_ALL_TASKS / SEE_ALL_INSTANCES).
* Everyone else sees a task when
  - they are its assignee or completed it, or
  - its candidate role (the BPMN lane) is one of their roles — **except the `client` role, which
    only counts for tasks of the client's own organisation**: the task's process instance must be
    linked to an `Application` of the user's organisation, either because
    `Application.instance_id` is the task's instance, or because the instance's business key is
    the application number (`Application.number == business_key`, which is what
    `application.register` sets). An instance linked to no application at all (such as the
    review_flow test fixture) therefore has no client tasks any client can see, and a client
    user without an organisation sees no client tasks.
* A process instance is visible to SEE_ALL_INSTANCES, to the user who started it, to a client
  user of the organisation the instance is linked to (as above), and to anyone who may see one
  of its tasks.
* An attachment may be downloaded by its uploader, by users of the organisation it belongs to
  (its own link or its application's), and by staff who may see that organisation's case; a
  file of no organisation by its uploader and ORPHAN_FILE_ROLES (complaint handlers included).
* A client starts no process unless it is in CLIENT_STARTABLE_PROCESSES (`certification`,
  issue 10) and never sets a business key; the started instance is bound to the client's own
  organisation by the system (handlers/client_cases.py: `CaseBinding`, taken from the signed-in
  user's account), so it is the organisation's case from its start.
* What a client sees of a task's data is declared in processes/client_data.yaml
  (webapp/client_data.py); staff see all of it.
* An organisation's case (the case pages, `/cases/<id>`) is visible to SEE_ALL_INSTANCES, to the
  client users of that organisation (R-11), and to staff who have a part in it: they started one
  of its process instances, may see one of its tasks (candidate role, assignee, completer — open
  or completed), or sit on one of its audit teams (AuditTeamMember → Auditor → User). Whoever
  sees a case may open the pages of its process instances (`may_see_case_instance`).
* Documents of a case: staff read every kind; clients only the notices and reports addressed to
  them (CLIENT_DOCUMENT_KINDS) — internal records such as the mystery-shopping record are not
  shown to clients.
* Incidents are retried by `admin` and `process_owner` (RETRY_INCIDENT_ROLES), who alone see
  the list of open incidents of all cases (INCIDENT_LIST_ROLES).
* The auditor register (R-7.2.2 由人力资源部评价: register, evaluate, renew auditors) is kept by
  `hr` and `admin` (AUDITOR_REGISTER_ROLES: the pages /hr/auditors and the API's /auditors);
  users and roles by `admin` (MANAGE_USERS: /admin/users and the API's /users).
* `/metrics` (webapp/ops.py) is for the monitoring system only: the bearer token
  CERTFLOW_METRICS_TOKEN, no user role (`may_read_metrics`); `/healthz` and `/readyz` are public.

`Viewer` carries what the rules need about the user (username, roles, organisation); build it
with `Viewer.of(user)` from a `certflow.models.User`.
"""

import hmac
from dataclasses import dataclass
from functools import partial
from typing import Any

from flask import request
from pydantic import SecretStr
from sqlalchemy import (
    ColumnElement,
    Integer,
    String,
    and_,
    cast,
    exists,
    false,
    null,
    or_,
    select,
    true,
    union,
)

from certflow.db import db
from certflow.models import User
from certflow.permissions import Permission, may, roles_with
from domain.client_cases import ORGANISATION_BOUND_PROCESSES
from domain.models import (
    Application,
    Attachment,
    Audit,
    Auditor,
    AuditTeamMember,
    CaseBinding,
    Certificate,
    Disclosure,
    Document,
    MisuseCase,
    Organisation,
)
from engine.service import Actor, InstanceLink, TaskScope
from webapp.runtime import get_engine

# The role sets come from the one permission table (certflow/permissions.py).
SEE_ALL_TASKS = roles_with(Permission.SEE_ALL_TASKS)
SEE_ALL_INSTANCES = roles_with(Permission.SEE_ALL_INSTANCES)
CLIENT_ROLE = "client"
RETRY_INCIDENT_ROLES = roles_with(Permission.RETRY_INCIDENT)
# The list of open incidents across all cases (`/incidents`, issue 10): the roles that repair
# them. Each of them sees every instance (SEE_ALL_INSTANCES), so the list needs no case filter.
INCIDENT_LIST_ROLES = RETRY_INCIDENT_ROLES
AUDITOR_REGISTER_ROLES = roles_with(Permission.MANAGE_AUDITORS)  # hr, admin
# Files linked to no organisation: besides the uploader, the overseeing roles and complaint
# handlers (a public complaint has no organisation, R-12) may read them.
ORPHAN_FILE_ROLES = roles_with(Permission.READ_ORPHAN_FILES)
# Processes a client may start (issue 9, item 7; issue 10): each is bound to the client's own
# organisation by the system (domain/client_cases.py) — a client never chooses a business key or
# an organisation link.
CLIENT_STARTABLE_PROCESSES: frozenset[str] = ORGANISATION_BOUND_PROCESSES
# Generated documents a client may read on its case page: the notices and reports addressed to
# it. Anything else (internal records, kinds added later) is for staff only until listed here.
CLIENT_DOCUMENT_KINDS = frozenset(
    {
        "not_accepted_notice",  # R-6.2.2b
        "appointment_letter",  # the team is made known to the client
        "audit_report",
        "nc_report",
        "nc_reminder",
        "refusal_notice",
        "surveillance_reminder",
        "certificate_change_notice",
        "change_refusal_notice",
        "disclosure_notice",  # told in advance
        "misuse_notice",
        "complaint_acknowledgement",
        "complaint_reply",
    }
)


@dataclass(frozen=True)
class Viewer:
    username: str
    roles: frozenset[str]
    organisation_id: int | None = None

    @classmethod
    def of(cls, user: Any) -> "Viewer":
        return cls(user.username, frozenset(user.roles), user.organisation_id)

    @property
    def actor(self) -> Actor:
        return Actor(self.username, self.roles)

    @property
    def sees_all_tasks(self) -> bool:
        return bool(self.roles & SEE_ALL_TASKS)

    @property
    def sees_all_instances(self) -> bool:
        return bool(self.roles & SEE_ALL_INSTANCES)

    @property
    def is_supervisor(self) -> bool:
        """May reassign tasks (the engine's supervisor roles)."""
        return may(self.roles, Permission.REASSIGN_TASKS)

    @property
    def is_staff(self) -> bool:
        return bool(self.roles - {CLIENT_ROLE})

    @property
    def may_retry_incidents(self) -> bool:
        return bool(self.roles & RETRY_INCIDENT_ROLES)


# -- linking instances to organisations -----------------------------------------------------------
def application_link(instance_id: Any, business_key: Any) -> ColumnElement[bool]:
    """`Application` rows of the instance given by the two columns (id, business key)."""
    return or_(
        Application.instance_id == instance_id,
        and_(business_key.is_not(None), Application.number == business_key),
    )


def belongs_to_organisation(
    organisation_id: int | None, instance_id: Any, business_key: Any
) -> ColumnElement[bool]:
    """True when the instance (id and business key columns) is a case of the organisation."""
    if organisation_id is None:
        return false()
    # Every subquery correlates everything but its own tables: `organisation_id`, `instance_id`
    # and `business_key` may be columns of a query two levels up (case_visible_clause). SQLAlchemy
    # auto-correlates only with the directly enclosing SELECT and would otherwise add those
    # tables to the subquery's own FROM — matching every organisation (issue 9, item 1).
    by_application = exists(
        select(Application.id)
        .where(
            Application.organisation_id == organisation_id,
            application_link(instance_id, business_key),
        )
        .correlate_except(Application)
    )
    # Lifecycle processes (surveillance, suspension, recertification…) are keyed by the
    # certificate number.
    by_certificate = exists(
        select(Certificate.id)
        .where(
            Certificate.organisation_id == organisation_id,
            business_key.is_not(None),
            Certificate.number == business_key,
        )
        .correlate_except(Certificate)
    )
    # Mark misuse (WY-…) and disclosure (PL-…) cases are keyed by their own references.
    by_misuse = exists(
        select(MisuseCase.id)
        .join(Certificate, Certificate.id == MisuseCase.certificate_id)
        .where(Certificate.organisation_id == organisation_id, MisuseCase.reference == business_key)
        .correlate_except(MisuseCase, Certificate)
    )
    by_disclosure = exists(
        select(Disclosure.id)
        .where(Disclosure.organisation_id == organisation_id, Disclosure.reference == business_key)
        .correlate_except(Disclosure)
    )
    # A case a client started for its organisation (issue 10), before any application exists.
    by_binding = exists(
        select(CaseBinding.id)
        .where(
            CaseBinding.organisation_id == organisation_id, CaseBinding.instance_id == instance_id
        )
        .correlate_except(CaseBinding)
    )
    return or_(by_application, by_certificate, by_misuse, by_disclosure, by_binding)


def organisation_cases_link(organisation_id: int) -> InstanceLink:
    """The link of organisation_link for one known organisation, with its cases' instance ids
    and business keys read first: `id IN (…) OR business_key IN (…)` is two index scans, where
    the correlated EXISTS of belongs_to_organisation is evaluated for every instance (a
    sequential scan that grows with all the cases of all clients; issue 16). Read at the call:
    for one page's queries, not to be kept."""
    no_id, no_key = cast(null(), Integer), cast(null(), String)
    rows = db.session.execute(  # one round trip (issue 16): (instance id, business key) pairs
        union(
            select(Application.instance_id, Application.number).where(
                Application.organisation_id == organisation_id
            ),
            select(CaseBinding.instance_id, no_key).where(
                CaseBinding.organisation_id == organisation_id
            ),
            select(no_id, Certificate.number).where(Certificate.organisation_id == organisation_id),
            select(no_id, MisuseCase.reference)
            .join(Certificate, Certificate.id == MisuseCase.certificate_id)
            .where(Certificate.organisation_id == organisation_id),
            select(no_id, Disclosure.reference).where(
                Disclosure.organisation_id == organisation_id
            ),
        )
    ).all()
    ids = {instance_id for instance_id, _ in rows if instance_id is not None}
    keys = {key for _, key in rows if key is not None}

    def link(instance_id: Any, business_key: Any) -> ColumnElement[bool]:
        return or_(instance_id.in_(sorted(ids)), business_key.in_(sorted(keys)))

    return link


def instance_organisations(instance_id: int, business_key: str | None) -> list[Organisation]:
    """The organisations whose applications the instance handles (normally one)."""
    link = Application.instance_id == instance_id
    bound = select(CaseBinding.organisation_id).where(CaseBinding.instance_id == instance_id)
    if business_key is not None:
        link = or_(link, Application.number == business_key)
        by_certificate = select(Certificate.organisation_id).where(
            Certificate.number == business_key
        )
        owners = union(select(Application.organisation_id).where(link), by_certificate, bound)
    else:
        owners = union(select(Application.organisation_id).where(link), bound)
    return list(
        db.session.scalars(
            select(Organisation).where(Organisation.id.in_(owners)).order_by(Organisation.id)
        )
    )


def organisation_link(organisation_id: Any) -> InstanceLink:
    """The engine's instance link for "a case of the organisation" (an id or a column)."""
    return partial(belongs_to_organisation, organisation_id)


def task_organisations(tasks: list[Any]) -> dict[str, list[Organisation]]:
    """Organisations of several tasks at once (for a page of the inbox): through the
    applications linked to each task's instance (id or business key) and the binding of a case
    a client started."""
    if not tasks:
        return {}
    instance_ids = sorted({t.instance_id for t in tasks})
    keys = sorted({t.business_key for t in tasks if t.business_key is not None})
    rows = db.session.execute(
        select(Application.instance_id, Application.number, Organisation)
        .join(Organisation, Organisation.id == Application.organisation_id)
        .where(or_(Application.instance_id.in_(instance_ids), Application.number.in_(keys)))
        .order_by(Organisation.id)
    ).all()
    # A case a client started is its organisation's before the application names it.
    bound = db.session.execute(
        select(CaseBinding.instance_id, Organisation)
        .join(Organisation, Organisation.id == CaseBinding.organisation_id)
        .where(CaseBinding.instance_id.in_(instance_ids))
    ).all()
    rows = [*rows, *((instance_id, None, organisation) for instance_id, organisation in bound)]
    result: dict[str, list[Organisation]] = {}
    for task in tasks:
        found = result.setdefault(task.id, [])
        for instance_id, number, organisation in rows:
            linked = instance_id == task.instance_id or (
                task.business_key is not None and number == task.business_key
            )
            if linked and organisation not in found:
                found.append(organisation)
    return {task_id: found for task_id, found in result.items() if found}


# -- tasks ----------------------------------------------------------------------------------------
def task_scope(viewer: Viewer) -> TaskScope:
    """The tasks the viewer may see, for the engine's queries: assigned to or completed by them,
    of their staff roles, client tasks only of their own organisation (R-11)."""
    linked: tuple[tuple[str, InstanceLink | None], ...] = ()
    if CLIENT_ROLE in viewer.roles:
        own = None if viewer.organisation_id is None else organisation_link(viewer.organisation_id)
        linked = ((CLIENT_ROLE, own),)
    return TaskScope(
        username=viewer.username,
        roles=frozenset(viewer.roles - {CLIENT_ROLE}),
        linked_roles=linked,
        all_tasks=viewer.sees_all_tasks,
    )


def may_see_task(viewer: Viewer, row: Any) -> bool:
    if viewer.sees_all_tasks or viewer.username in (row.assignee, row.completed_by):
        return True
    scope = task_scope(viewer)
    if row.candidate_role in scope.roles:  # a staff role of the viewer: no query needed
        return True
    return get_engine().task_in_scope(row.id, scope, through_role=True)


def may_work_on(viewer: Viewer, row: Any) -> bool:
    """May complete or claim the task: it is open, visible through the viewer's role (client:
    own organisation) and not claimed by someone else. Admins act for every role (the engine's
    rule)."""
    if row.state != "open":
        return False
    if row.assignee is not None and row.assignee != viewer.username:
        return False
    if "admin" in viewer.roles:
        return True
    return get_engine().task_in_scope(row.id, task_scope(viewer), through_role=True)


# -- instances ------------------------------------------------------------------------------------
def may_see_instance(viewer: Viewer, instance: Any) -> bool:
    if viewer.sees_all_instances or instance.started_by == viewer.username:
        return True
    client_link = None
    if CLIENT_ROLE in viewer.roles:
        # Without an organisation the link accepts nothing (belongs_to_organisation).
        client_link = organisation_link(viewer.organisation_id)
    return get_engine().instance_in_scope(instance.id, task_scope(viewer), client_link)


# -- attachments ----------------------------------------------------------------------------------
def attachment_organisation(attachment: Attachment) -> int | None:
    """The organisation whose case the file belongs to: its own link, else its application's."""
    if attachment.organisation_id is not None:
        return attachment.organisation_id
    if attachment.application_id is None:
        return None
    return db.session.scalar(
        select(Application.organisation_id).where(Application.id == attachment.application_id)
    )


def may_download(viewer: Viewer, attachment: Attachment) -> bool:
    """The case visibility rule applied to files (R-11; issue 9, item 12): the uploader, the
    users of the file's organisation, and staff who may see that organisation's case. A file of
    no organisation (uploaded by staff, or a public complaint's) goes to its uploader and
    ORPHAN_FILE_ROLES only."""
    if attachment.uploaded_by == viewer.username:
        return True
    organisation_id = attachment_organisation(attachment)
    if organisation_id is None:
        return bool(viewer.roles & ORPHAN_FILE_ROLES)
    if viewer.organisation_id == organisation_id:
        return True
    return viewer.is_staff and may_see_case(viewer, organisation_id)


# -- organisation cases ---------------------------------------------------------------------------
def case_visible_clause(viewer: Viewer) -> ColumnElement[bool]:
    """SQL condition on Organisation: the cases the viewer may see (see the module's rules)."""
    if viewer.sees_all_instances:
        return true()
    clauses: list[ColumnElement[bool]] = []
    if CLIENT_ROLE in viewer.roles and viewer.organisation_id is not None:
        clauses.append(Organisation.id == viewer.organisation_id)
    if viewer.is_staff:
        # An instance of the organisation the viewer started or holds a visible task of.
        clauses.append(
            get_engine().instance_exists(
                organisation_link(Organisation.id), involving=task_scope(viewer)
            )
        )
        clauses.append(
            exists(
                select(AuditTeamMember.id)
                .join(Audit, Audit.id == AuditTeamMember.audit_id)
                .join(Auditor, Auditor.id == AuditTeamMember.auditor_id)
                .join(User, User.id == Auditor.user_id)
                .where(Audit.organisation_id == Organisation.id, User.username == viewer.username)
                .correlate_except(AuditTeamMember, Audit, Auditor, User)
            )
        )
    return or_(*clauses) if clauses else false()


def may_see_case(viewer: Viewer, organisation_id: int) -> bool:
    if viewer.sees_all_instances:  # every case: only whether it exists (no query when loaded)
        if organisation_id is None:  # e.g. a letter of a complaint naming no organisation
            return False
        return db.session.get(Organisation, organisation_id) is not None
    query = select(Organisation.id).where(
        Organisation.id == organisation_id, case_visible_clause(viewer)
    )
    return db.session.scalars(query.limit(1)).first() is not None


def may_see_case_instance(viewer: Viewer, instance: Any) -> bool:
    """The instance page: whoever may see the instance itself, and staff who may see the case of
    one of the instance's organisations (a client only through its own organisation)."""
    if may_see_instance(viewer, instance):
        return True
    if not viewer.is_staff:
        return False
    organisations = instance_organisations(instance.id, instance.business_key)
    return any(may_see_case(viewer, organisation.id) for organisation in organisations)


def may_read_document(viewer: Viewer, document: Document) -> bool:
    if not may_see_case(viewer, document.organisation_id):
        return False
    return viewer.is_staff or document.kind in CLIENT_DOCUMENT_KINDS


def may_read_metrics(token: SecretStr | None) -> bool:
    """/metrics (issue 16) is for the monitoring system only: a request bearing the configured
    CERTFLOW_METRICS_TOKEN. No token configured → nobody (the endpoint answers 404). Not "from
    localhost": behind a reverse proxy on the same machine every visitor would be localhost."""
    if token is None:
        return False
    given = request.headers.get("Authorization", "")
    expected = f"Bearer {token.get_secret_value()}"
    return hmac.compare_digest(given.encode(), expected.encode())
