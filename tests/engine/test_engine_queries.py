"""The engine's query API (issue 14 a): the web reads tasks, instances, events and incidents
through it, describing the viewer as a `TaskScope` and an organisation as an `InstanceLink`;
the engine builds the SQL and answers with read models, never its ORM rows. On the review_flow
fixture process: Task_Review (market, due in 5 days, form) → Task_SignContract (client)."""

from datetime import timedelta

from sqlalchemy import event, literal, select

from engine.service import (
    EventView,
    IncidentView,
    InstanceView,
    ProcessView,
    TaskFilter,
    TaskScope,
    TaskView,
)
from tests.conftest import START_TIME
from tests.helpers import MARKET, OWNER, REVIEW_FLOW, registered
from webapp.models import TaskFollowUp


def start(engine, key: str, headcount: int = 120):
    return engine.start(
        "review_flow",
        actor=MARKET,
        business_key=key,
        data={"headcount": headcount, "application_id": key},
    )


def review_of(engine, instance_id: int) -> TaskView:
    [task] = engine.list_tasks(TaskFilter(instance_ids=(instance_id,)))
    return task


def to_contract(engine, key: str) -> tuple[int, TaskView]:
    """An instance whose open task is the client's Task_SignContract."""
    instance = start(engine, key)
    review = review_of(engine, instance.id)
    engine.complete_task(review.id, actor=MARKET, data={"accepted": True, "man_days": 2})
    return instance.id, review_of(engine, instance.id)


def key_is(value: str):
    """An InstanceLink as the web builds one from its own tables: here, by business key."""
    return lambda instance_id, business_key: business_key == value


MARKET_SCOPE = TaskScope(username=MARKET.username, roles=frozenset({"market"}))


def client_scope(link=None) -> TaskScope:
    return TaskScope(username="carl_client", linked_roles=(("client", link),))


def test_rows_are_read_models_not_engine_rows(deployed):
    instance = start(deployed, "APP-1")
    task = deployed.find_task(review_of(deployed, instance.id).id)
    assert isinstance(task, TaskView) and not hasattr(task, "_sa_instance_state")
    assert (task.element_id, task.candidate_role, task.state) == ("Task_Review", "market", "open")
    assert task.process_name == "申请评审（测试） Review flow (test)"
    assert task.due_at == START_TIME + timedelta(days=5)
    view = deployed.find_instance(instance.id)
    assert isinstance(view, InstanceView) and not hasattr(view, "_sa_instance_state")
    assert view.process_version.version == 1 and view.active_elements == ["Task_Review"]
    assert view.spec_files["review_flow"].endswith("review_flow.bpmn")
    assert deployed.find_task("00000000-0000-0000-0000-000000000000") is None
    assert deployed.find_instance(instance.id + 1000) is None


def test_task_scope_roles_links_and_personal_tasks(deployed):
    _, contract = to_contract(deployed, "APP-1")
    review_done = deployed.list_tasks(TaskFilter(state="completed"))[0]
    # market sees the completed review by its role; the client's contract task not.
    assert deployed.task_in_scope(review_done.id, MARKET_SCOPE)
    assert not deployed.task_in_scope(contract.id, MARKET_SCOPE)
    # A client role counts only on instances its link accepts; no link → nothing.
    assert deployed.task_in_scope(contract.id, client_scope(key_is("APP-1")))
    assert not deployed.task_in_scope(contract.id, client_scope(key_is("APP-2")))
    assert not deployed.task_in_scope(contract.id, client_scope(None))
    # Who completed a task sees it, but not through a role.
    someone = TaskScope(username=MARKET.username)
    assert deployed.task_in_scope(review_done.id, someone)
    assert not deployed.task_in_scope(review_done.id, someone, through_role=True)
    everyone = TaskScope(username="ada", all_tasks=True)
    sent: list[str] = []
    bind = deployed.session.get_bind()
    event.listen(bind, "before_cursor_execute", record := lambda *args: sent.append(args[2]))
    try:
        seen = deployed.tasks_in_scope([review_done.id, contract.id], everyone)
    finally:
        event.remove(bind, "before_cursor_execute", record)
    assert seen == {review_done.id, contract.id}
    assert sent == []  # a scope that sees every task needs no query (issue 16)


def test_filters_sort_and_paging(deployed, clock):
    keys = ["APP-3", "APP-1", "APP-2"]
    for number, key in enumerate(keys):
        start(deployed, key)
        clock.advance(timedelta(hours=1 + number))
    everything = TaskFilter()
    assert deployed.count_tasks(everything) == 3
    by_created = [t.business_key for t in deployed.list_tasks(everything, sort="created")]
    assert by_created == keys
    assert [t.business_key for t in deployed.list_tasks(everything, sort="-created")] == keys[::-1]
    page = deployed.list_tasks(everything, sort="created", limit=2, offset=1)
    assert [t.business_key for t in page] == keys[1:]
    assert deployed.count_tasks(TaskFilter(business_key="APP-2")) == 1
    assert deployed.count_tasks(TaskFilter(text="app-")) == 3  # case-insensitive search
    assert deployed.count_tasks(TaskFilter(text="%")) == 0  # LIKE wildcards are literal
    assert deployed.count_tasks(TaskFilter(text="nothing", text_link=key_is("APP-1"))) == 1
    assert deployed.count_tasks(TaskFilter(linked_to=key_is("APP-1"))) == 1
    assert deployed.count_tasks(TaskFilter(instance_linked_to=key_is("APP-3"))) == 1
    assert deployed.count_tasks(TaskFilter(due_before=START_TIME + timedelta(days=5, hours=1)))
    assert deployed.count_tasks(TaskFilter(no_due_date=True)) == 0
    assert deployed.count_tasks(TaskFilter(unassigned=True)) == 3
    assert deployed.count_tasks(TaskFilter(by_role_of=client_scope(key_is("APP-1")))) == 0
    assert deployed.task_values(everything, "name") == ["受理评审 Acceptance review"]
    assert deployed.task_values(everything, "assignee") == []


def test_a_page_of_tasks_is_two_queries_however_many_tasks(deployed, clock):
    for number in range(6):
        start(deployed, f"APP-{number}")
    statements: list[str] = []
    bind = deployed.session.get_bind()

    def count(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    event.listen(bind, "before_cursor_execute", count)
    try:
        page = deployed.list_tasks(TaskFilter(), sort="due", limit=2)
    finally:
        event.remove(bind, "before_cursor_execute", count)
    assert len(page) == 2
    assert len(statements) == 2  # the page (with LIMIT) and the versions of its instances
    assert "LIMIT" in statements[0].upper()


def test_the_callers_own_follow_up_dates_take_precedence(deployed, ctx):
    first, second = start(deployed, "APP-1"), start(deployed, "APP-2")
    mine = review_of(deployed, first.id)
    deployed.session.add(
        TaskFollowUp(task_id=mine.id, username="mia_market", follow_up_at=START_TIME)
    )
    deployed.session.flush()
    follow_ups = select(TaskFollowUp.task_id, TaskFollowUp.follow_up_at).where(
        TaskFollowUp.username == "mia_market"
    )
    flt = TaskFilter(follow_ups=follow_ups, follow_up_due=START_TIME)
    assert deployed.count_tasks(flt) == 1
    [(task, personal)] = deployed.list_tasks_with_follow_up(flt, sort="due", limit=10)
    assert (task.id, personal) == (mine.id, START_TIME)
    rows = deployed.list_tasks_with_follow_up(TaskFilter(), sort="created", limit=10)
    assert [personal for _, personal in rows] == [None, None]
    assert second.id in {task.instance_id for task, _ in rows}


def test_instances_links_and_correlated_exists(deployed):
    first, _ = to_contract(deployed, "APP-1")
    other = start(deployed, "APP-2")
    assert [i.id for i in deployed.list_instances(key_is("APP-1"))] == [first]
    assert deployed.instance_in_scope(first, client_scope(key_is("APP-1")))
    assert not deployed.instance_in_scope(other.id, client_scope(key_is("APP-1")))
    assert deployed.instance_in_scope(other.id, client_scope(None), key_is("APP-2"))
    # For a caller's own query (e.g. the cases page): EXISTS an instance of the link that the
    # scope's user started or holds a visible task of.
    exists_started = deployed.instance_exists(key_is("APP-2"), involving=MARKET_SCOPE)
    assert deployed.session.scalar(select(literal(1)).where(exists_started)) == 1
    by_client = deployed.instance_exists(key_is("APP-2"), involving=client_scope(key_is("APP-2")))
    assert deployed.session.scalar(select(literal(1)).where(by_client)) is None


def test_events_passed_elements_and_submitted_forms(deployed):
    instance_id, contract = to_contract(deployed, "APP-1")
    events = deployed.instance_events([instance_id], limit=100, newest_first=False)
    assert all(isinstance(e, EventView) for e in events)
    assert [e.event_type for e in events][:2] == ["instance_started", "task_created"]
    newest = deployed.instance_events([instance_id], limit=1, newest_first=True)
    assert newest[0].id == events[-1].id
    # A client sees the instance's own events listed and those of its tasks only.
    seen = deployed.instance_events(
        [instance_id],
        limit=100,
        newest_first=False,
        only_for=client_scope(key_is("APP-1")),
        instance_event_types=("instance_started",),
    )
    assert {e.task_id for e in seen if e.task_id} == {contract.id}
    assert "instance_started" in {e.event_type for e in seen}
    assert "Task_Review" in deployed.passed_elements(deployed.find_instance(instance_id))
    [(task, data)] = deployed.submitted_forms([instance_id])
    assert task.element_id == "Task_Review" and data == {"accepted": True, "man_days": 2}
    assert deployed.task_names([instance_id])[contract.id] == contract.name
    # Only the tasks a page of events names (issue 16: not every task of a long case).
    assert deployed.task_names([instance_id], only=[contract.id]) == {contract.id: contract.name}
    assert deployed.task_names([instance_id], only=[]) == {}
    assert deployed.task_elements(instance_id, client_scope(key_is("APP-1"))) == [
        ("Task_SignContract", "open")
    ]
    view = deployed.find_instance(instance_id)
    bpmn = deployed.version_file(view.process_version_id, view.spec_files["review_flow"])
    assert bpmn is not None and b"Task_SignContract" in bpmn
    assert deployed.version_file(view.process_version_id, "nope.bpmn") is None
    assert deployed.incident_views(instance_id) == []


def test_incidents_come_back_as_read_models(engine):
    with registered("test_record_acceptance", _failing):
        engine.deploy([REVIEW_FLOW], actor=OWNER, comment="fixture")
        instance = start(engine, "APP-1")
        review = review_of(engine, instance.id)
        engine.complete_task(review.id, actor=MARKET, data={"accepted": True, "man_days": 2})
    [incident] = engine.incident_views(instance.id)
    assert isinstance(incident, IncidentView) and incident.status == "open"
    assert incident.element_id == "Task_RecordAcceptance"
    assert engine.incident_view(incident.id) == incident
    assert engine.incident_view(incident.id + 1000) is None


def _failing(params, ctx):
    raise RuntimeError("the handler failed")


def test_latest_processes_are_read_models(deployed):
    [process] = deployed.latest_processes()
    assert isinstance(process, ProcessView) and not hasattr(process, "_sa_instance_state")
    assert (process.process_id, process.version, process.deployed_by) == (
        "review_flow",
        1,
        OWNER.username,
    )
    assert len(process.sha256) == 64 and process.deployed_at == START_TIME
