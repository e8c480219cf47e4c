"""The sandbox through the real engine and database (issue 9, items 3 and 4).

- A script that slipped past validation (simulated: the validator switched off, as `match` once
  walked through it) cannot read the secret key or the environment: it becomes an incident and
  nothing secret is stored anywhere.
- A script or condition that loops or allocates without end becomes an incident within the
  limit, the task data stay as they were, and a retry with fixed data completes the instance.
"""

import time

import pytest
from sqlalchemy import select

import engine.definitions as definitions_module
from engine.errors import DeploymentError
from engine.models import EventLog, Incident, ProcessInstance
from engine.script_limits import WALL_FACTOR
from tests.helpers import ADMIN, MARKET, OWNER
from tests.security.bpmn_builder import PROCESS_ID, SCRIPT_TASK, write_probe

SECRET = "s3cr3t-fedcba9876543210"

SECRET_READERS = {
    # The attack the review demonstrated: before the allowlist this returned the environment,
    # CERTFLOW_SECRET_KEY included (a format field walks to os.environ; no ast.Attribute).
    "match-format": (
        'match "{0.__globals__[calendar].sys.modules[os].environ}":\n'
        "    case str(format=F):\n"
        "        leaked = F(add_months)"
    ),
    "match-format-file": (
        'match "s":\n    case str(format=F):\n'
        '        leaked = F("{0.__globals__[__builtins__][open]}", parse_date)(PATH).read()'
    ),
    "match-dunder-class": (
        "match ():\n    case tuple(__class__=C):\n"
        "        leaked = [c for c in C.__base__.__subclasses__() if c.__name__ == 'FileIO']"
    ),
    "helper-globals": "leaked = parse_date.__globals__['__builtins__']['open'](PATH).read()",
    "fstring-globals": 'leaked = f"{add_months.__globals__}"',
    "traceback-frame": (
        "try:\n    1 / 0\nexcept ZeroDivisionError as e:\n"
        "    leaked = e.__traceback__.tb_frame.f_back.f_globals"
    ),
    "os-environ": "import os\nleaked = os.environ['CERTFLOW_SECRET_KEY']",
}


@pytest.fixture
def limits(monkeypatch):
    """Tight limits for the run-away tests; requested before `engine` so the engine reads them."""
    monkeypatch.setenv("CERTFLOW_SCRIPT_TIMEOUT_SECONDS", "0.5")
    monkeypatch.setenv("CERTFLOW_SCRIPT_MEMORY_MB", "32")


@pytest.fixture
def secret(monkeypatch, tmp_path):
    path = tmp_path / "instance" / "secret_key"
    path.parent.mkdir(exist_ok=True)
    path.write_text(SECRET)
    monkeypatch.setenv("CERTFLOW_SECRET_KEY", SECRET)
    return path


def _deploy(engine, tmp_path, **probe):
    engine.deploy([write_probe(tmp_path / "defs", **probe).parent], actor=OWNER)


def _script_task_data(engine, instance_id: int) -> dict:
    workflow = engine._load(engine.get_instance(instance_id))
    [task] = [t for t in workflow.get_tasks() if t.task_spec.name == SCRIPT_TASK]
    return task.data


def _stored_text(engine) -> str:
    """Everything the operation persisted that a user or admin could read back."""
    session = engine.session
    parts = [row.state_json for row in session.scalars(select(ProcessInstance))]
    parts += [f"{i.message}\n{i.details}" for i in session.scalars(select(Incident))]
    parts += [str(e.data) for e in session.scalars(select(EventLog))]
    return "\n".join(parts)


@pytest.mark.parametrize("name", sorted(SECRET_READERS))
def test_the_secret_key_attack_is_refused_at_deploy(name, engine, tmp_path, secret):
    script = SECRET_READERS[name].replace("PATH", repr(str(secret)))
    with pytest.raises(DeploymentError) as err:
        _deploy(engine, tmp_path, script=script)
    assert [p.element_id for p in err.value.problems] == [SCRIPT_TASK]


@pytest.mark.parametrize("name", sorted(SECRET_READERS))
def test_the_secret_key_attack_past_a_validator_gap_is_an_incident(
    name, engine, tmp_path, secret, monkeypatch
):
    monkeypatch.setattr(definitions_module, "validate_paths", lambda *a, **k: [])
    script = SECRET_READERS[name].replace("PATH", repr(str(secret)))
    _deploy(engine, tmp_path, script=script)
    instance = engine.start(PROCESS_ID, actor=MARKET)
    assert engine.get_instance(instance.id).status == "error"
    [incident] = engine.open_incidents(instance.id)
    assert incident.element_id == SCRIPT_TASK
    assert incident.error_type == "ScriptRestrictionError"
    assert "leaked" not in _script_task_data(engine, instance.id)
    assert SECRET not in _stored_text(engine)


def test_a_script_that_loops_forever_becomes_an_incident_and_retry_completes(
    limits, engine, tmp_path
):
    _deploy(engine, tmp_path, script="i = 0\nwhile i < limit:\n    i = i + 1")
    started = time.monotonic()
    instance = engine.start(PROCESS_ID, actor=MARKET, data={"limit": 10**15})
    elapsed = time.monotonic() - started
    assert elapsed < 0.5 * WALL_FACTOR + 10, elapsed  # bounded (the hard wall-clock bound)

    assert engine.get_instance(instance.id).status == "error"
    [incident] = engine.open_incidents(instance.id)
    assert (incident.element_id, incident.error_type) == (SCRIPT_TASK, "ScriptLimitExceeded")
    assert "ran longer than 0.5 s" in incident.message
    # The script's half-done work is not kept: the task data are as before the script.
    assert _script_task_data(engine, instance.id) == {"limit": 10**15}

    resolved = engine.retry_incident(incident.id, actor=ADMIN, data={"limit": 3})
    assert resolved.status == "resolved"
    row = engine.get_instance(instance.id)
    assert row.status == "completed"
    assert _script_task_data(engine, instance.id) == {"limit": 3, "i": 3}


def test_a_script_that_allocates_without_end_becomes_an_incident_and_retry_completes(
    monkeypatch, engine, tmp_path
):
    script = (
        "chunks = []\n"
        "while len(chunks) < count:\n"
        "    chunks.append('x' * 100000 + str(len(chunks)))\n"
        "chunks = len(chunks)"
    )
    _deploy(engine, tmp_path, script=script)
    env = engine.script_engine.environment
    monkeypatch.setattr(env, "limits", type(env.limits)(timeout_seconds=10, memory_mb=32))
    started = time.monotonic()
    instance = engine.start(PROCESS_ID, actor=MARKET, data={"count": 10**9})
    assert time.monotonic() - started < 10  # stopped by memory, not by the time limit

    [incident] = engine.open_incidents(instance.id)
    assert incident.error_type == "ScriptLimitExceeded"
    assert "used more than 32 MB" in incident.message
    assert _script_task_data(engine, instance.id) == {"count": 10**9}

    engine.retry_incident(incident.id, actor=ADMIN, data={"count": 3})
    assert engine.get_instance(instance.id).status == "completed"
    assert _script_task_data(engine, instance.id)["chunks"] == 3


def test_a_single_huge_allocation_is_an_incident_not_a_crash(limits, engine, tmp_path):
    _deploy(engine, tmp_path, script="text = 'a' * size")
    instance = engine.start(PROCESS_ID, actor=MARKET, data={"size": 10**10})
    [incident] = engine.open_incidents(instance.id)
    assert incident.error_type == "ScriptLimitExceeded"
    engine.retry_incident(incident.id, actor=ADMIN, data={"size": 2})
    assert engine.get_instance(instance.id).status == "completed"


def test_a_condition_that_runs_away_is_an_incident_on_the_gateway(limits, engine, tmp_path):
    _deploy(
        engine,
        tmp_path,
        condition="sum(1 for a in range(n) for b in range(n)) < 0",
    )
    started = time.monotonic()
    instance = engine.start(PROCESS_ID, actor=MARKET, data={"n": 10**6})
    assert time.monotonic() - started < 0.5 * WALL_FACTOR + 10  # bounded
    [incident] = engine.open_incidents(instance.id)
    assert incident.element_id == "Gateway_1"
    assert incident.error_type == "ScriptLimitExceeded"
    engine.retry_incident(incident.id, actor=ADMIN, data={"n": 2})
    assert engine.get_instance(instance.id).status == "completed"
