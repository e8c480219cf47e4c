"""Deploying definitions: versions, hashes, stored sources, atomicity, running instances."""

import hashlib
import json
import shutil

import pytest
from sqlalchemy import func, select

from engine.errors import DeploymentError
from engine.models import Deployment, EventLog, HumanTask, ProcessVersion, SourceFile
from tests.helpers import MARKET, OWNER, REVIEW_FLOW, record_acceptance, registered


@pytest.fixture
def workdir(tmp_path):
    """A copy of the fixture processes that tests may edit."""
    target = tmp_path / "processes"
    shutil.copytree(REVIEW_FLOW, target)
    with registered("test_record_acceptance", record_acceptance):
        yield target


def count(engine, model) -> int:
    return engine.session.scalar(select(func.count()).select_from(model))


def test_first_deploy_stores_version_hash_sources_who_when_comment(engine, clock, workdir):
    result = engine.deploy([workdir], actor=OWNER, comment="initial rules")
    [version] = result.created
    assert (version.process_id, version.version) == ("review_flow", 1)
    assert version.name == "申请评审（测试） Review flow (test)"
    deployment = engine.session.get(Deployment, result.deployment_id)
    assert (deployment.deployed_by, deployment.comment) == (OWNER.username, "initial rules")
    assert deployment.deployed_at == clock.now()
    stored = {f.path: f.source.content for f in version.files}
    assert set(stored) == {"review_flow.bpmn", "forms/review.json", "forms/contract.json"}
    assert stored["review_flow.bpmn"] == (workdir / "review_flow.bpmn").read_bytes()
    for f in version.files:
        assert f.sha256 == hashlib.sha256(f.source.content).hexdigest()
    expected = hashlib.sha256(
        "\n".join(
            f"{path} {hashlib.sha256(stored[path]).hexdigest()}" for path in sorted(stored)
        ).encode()
    ).hexdigest()
    assert version.sha256 == expected
    assert version.spec_files == {"review_flow": "review_flow.bpmn"}
    logged = engine.session.scalars(
        select(EventLog).where(EventLog.event_type == "definition_deployed")
    ).one()
    assert logged.actor == OWNER.username and logged.data["version"] == 1


def test_unchanged_sources_make_no_new_version(engine, workdir):
    engine.deploy([workdir], actor=OWNER)
    again = engine.deploy([workdir], actor=OWNER, comment="nothing changed")
    assert again.created == [] and again.unchanged == ["review_flow"]
    assert again.deployment_id is None
    assert count(engine, ProcessVersion) == 1 and count(engine, Deployment) == 1


def test_changed_form_makes_a_new_version_and_running_instances_stay_on_theirs(engine, workdir):
    engine.deploy([workdir], actor=OWNER)
    old = engine.start("review_flow", actor=MARKET, data={"headcount": 1, "application_id": "OLD"})
    form = workdir / "forms" / "review.json"
    schema = json.loads(form.read_text())
    schema["properties"]["man_days"]["minimum"] = 2
    form.write_text(json.dumps(schema, ensure_ascii=False))
    [v2] = engine.deploy([workdir], actor=OWNER, comment="stricter man-days").created
    assert v2.version == 2
    assert count(engine, SourceFile) == 4  # the unchanged BPMN and contract form stored once

    new = engine.start("review_flow", actor=MARKET, data={"headcount": 1, "application_id": "NEW"})
    assert engine.get_instance(old.id).process_version.version == 1
    assert engine.get_instance(new.id).process_version.version == 2
    old_task, new_task = (
        engine.session.scalars(select(HumanTask).where(HumanTask.instance_id == i.id)).one()
        for i in (old, new)
    )
    # Each instance validates against the form of its own version.
    engine.complete_task(old_task.id, actor=MARKET, data={"accepted": True, "man_days": 1})
    from engine.errors import FormValidationError

    with pytest.raises(FormValidationError) as err:
        engine.complete_task(new_task.id, actor=MARKET, data={"accepted": True, "man_days": 1})
    assert "man_days" in err.value.errors


def test_malformed_bpmn_deploys_nothing_and_names_file_line_element(engine, workdir):
    engine.deploy([workdir], actor=OWNER)
    bpmn = workdir / "review_flow.bpmn"
    text = bpmn.read_text()
    bpmn.write_text(text.replace('name="受理评审 Acceptance review"', ""))
    (workdir / "broken.bpmn").write_text("<bpmn:definitions>\n<unclosed>\n")
    with pytest.raises(DeploymentError) as err:
        engine.deploy([workdir], actor=OWNER, comment="should not land")
    lines = [str(p) for p in err.value.problems]
    assert any(line.startswith(f"{workdir / 'broken.bpmn'}:") for line in lines), lines
    [unnamed] = [p for p in err.value.problems if p.element_id == "Task_Review"]
    assert (
        unnamed.line
        == text.splitlines().index(next(li for li in text.splitlines() if 'id="Task_Review"' in li))
        + 1
    )
    assert count(engine, ProcessVersion) == 1 and count(engine, Deployment) == 1


def test_instance_state_does_not_embed_the_definition(engine, workdir):
    [version] = engine.deploy([workdir], actor=OWNER).created
    instance = engine.start(
        "review_flow", actor=MARKET, data={"headcount": 1, "application_id": "S"}
    )
    state = json.loads(engine.get_instance(instance.id).state_json)
    assert "spec" not in state and "subprocess_specs" not in state
    assert "task_specs" not in engine.get_instance(instance.id).state_json
    assert "task_specs" in version.spec_json


@pytest.mark.parametrize("outside", ["../outside.json", "ABSOLUTE"])
def test_form_outside_the_deployed_folder_deploys_nothing(engine, workdir, outside):
    # Issue 9 item 11: this passed validation and crashed deploy with a traceback.
    schema = workdir.parent / "outside.json"
    schema.write_text('{"type": "object"}')
    reference = str(schema) if outside == "ABSOLUTE" else outside
    bpmn = workdir / "review_flow.bpmn"
    text = bpmn.read_text()
    bpmn.write_text(text.replace('value="forms/review.json"', f'value="{reference}"'))
    with pytest.raises(DeploymentError) as err:
        engine.deploy([workdir], actor=OWNER, comment="should not land")
    [problem] = err.value.problems
    line = next(n for n, li in enumerate(text.splitlines(), 1) if "forms/review.json" in li)
    assert (problem.file, problem.line, problem.element_id) == (str(bpmn), line, "Task_Review")
    assert "must be a relative path inside the folder of the BPMN file" in problem.message
    assert count(engine, ProcessVersion) == 0 and count(engine, Deployment) == 0


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda t: t.replace("?>\n", '?>\n<!DOCTYPE x SYSTEM "http://example.com/x.dtd">\n', 1),
            "a DOCTYPE (DTD or entity declarations) is not allowed",
        ),
        (
            lambda t: t.replace(
                "<spiffworkflow:properties>",
                '<spiffworkflow:properties><spiffworkflow:property name="colour" value="red" />',
                1,
            ),
            "unknown task property 'colour'",
        ),
    ],
    ids=["doctype", "unknown-property"],
)
def test_doctype_or_unknown_extension_deploys_nothing(engine, workdir, edit, message):
    bpmn = workdir / "review_flow.bpmn"
    bpmn.write_text(edit(bpmn.read_text()))
    with pytest.raises(DeploymentError) as err:
        engine.deploy([workdir], actor=OWNER, comment="should not land")
    [problem] = err.value.problems
    assert problem.file == str(bpmn) and problem.line > 0 and message in problem.message
    assert count(engine, ProcessVersion) == 0 and count(engine, Deployment) == 0
