"""A certificate's life driven through the JSON API only (issue 11, must-show): every task is
found with GET /api/v1/tasks and completed with POST /api/v1/tasks/{id}/complete by the token of
the person whose role it is, files go through POST /api/v1/attachments, time moves with POST
/api/v1/clock (which fires the due timers), and what the test asserts is read from documented
resources (certificates, their history and instances, tasks, instances).

`ApiLifecycle` is the engine-driven `Lifecycle` with its plumbing replaced, so the same story
(`surveil`, `apply` … `decide`) runs over HTTP once `use_api()` was called; before that (the
fixture's setup: the first certificate) it runs on the engine as `Lifecycle` does."""

from datetime import date, datetime, timedelta
from typing import Any

from certflow.accounts import issue_token
from certflow.db import db
from certflow.models import User
from engine.service import Actor
from tests.lifecycle_case import Lifecycle


class ApiLifecycle(Lifecycle):
    api = False
    number: str | None = None  # the certificate whose sites the surveillance plan visits

    def use_api(self, admin: User, number: str | None) -> None:
        """From now on, everything through the HTTP API; tokens for every person of the case."""
        now = self.clock.now()
        usernames = {
            getattr(self.people, name).username
            for name in vars(self.people)
            if isinstance(getattr(self.people, name), Actor)
        }
        users = db.session.query(User).filter(User.username.in_(usernames | {admin.username}))
        self.tokens = {user.username: issue_token(db.session, user, now, "api") for user in users}
        self.admin = admin.username
        db.session.commit()
        self.http = self.engine_app.test_client()
        self.api, self.number = True, number

    # -- HTTP ------------------------------------------------------------------------------------
    def call(self, method: str, url: str, username: str | None = None, **kwargs) -> Any:
        db.session.rollback()  # the test client shares the test's session: start afresh
        headers = {
            "Authorization": f"Bearer {self.tokens[username or self.admin]}",
            **kwargs.pop("headers", {}),
        }
        response = self.http.open(f"/api/v1{url}", method=method, headers=headers, **kwargs)
        assert response.status_code < 300, (method, url, response.get_data(as_text=True))
        return response.json

    def get(self, url: str, username: str | None = None, **params) -> Any:
        return self.call("GET", url, username, query_string=params)

    def now(self) -> datetime:
        return datetime.fromisoformat(self.get("/clock")["now"])

    def open_tasks(self, process_id: str, username: str | None = None) -> list[dict]:
        items = self.get("/tasks", username, limit=100)["items"]
        return [t for t in items if t["process_id"] == process_id]

    def task_of(self, process_id: str | None, element_id: str, username: str | None = None) -> dict:
        items = self.get("/tasks", username, limit=100)["items"]
        found = [
            t
            for t in items
            if t["element_id"] == element_id
            and (process_id is None or t["process_id"] == process_id)
            and (process_id is not None or t["instance_id"] == self.instance_id)
        ]
        assert len(found) == 1, (process_id, element_id, [t["element_id"] for t in items])
        return found[0]

    def finish(self, task: dict, who: Actor, data: dict) -> None:
        instance = self.call(
            "POST", f"/tasks/{task['id']}/complete", who.username, json={"data": data}
        )
        assert instance["status"] != "error", (task["element_id"], instance["incidents"])

    # -- the plumbing of Case / Lifecycle, over HTTP ---------------------------------------------
    def complete(self, element_id: str, who: Actor, data: dict[str, Any]) -> None:
        if not self.api:
            return super().complete(element_id, who, data)
        self.finish(self.task_of(None, element_id, who.username), who, data)

    def complete_in(self, process_id: str, element_id: str, who: Actor, data: dict) -> None:
        if not self.api:
            return super().complete_in(process_id, element_id, who, data)
        self.finish(self.task_of(process_id, element_id, who.username), who, data)

    def data(self, element_id: str) -> dict[str, Any]:
        if not self.api:
            return super().data(element_id)
        return self.get(f"/tasks/{self.task_of(None, element_id)['id']}")["data"]

    def task_data(self, process_id: str, element_id: str) -> dict[str, Any]:
        """The data of the open task as staff see it (GET /api/v1/tasks/{id})."""
        return self.get(f"/tasks/{self.task_of(process_id, element_id)['id']}")["data"]

    def upload(self, kind: str, name: str) -> int:
        if not self.api:
            return super().upload(kind, name)
        body = {"kind": kind, "file": (_pdf(kind, name), name, "application/pdf")}
        answer = self.call(
            "POST", "/attachments", self.people.client.username, data=body, buffered=True
        )
        return answer["id"]

    def today(self) -> str:
        return (self.now() if self.api else self.clock.now()).date().isoformat()

    def at(self, n: int) -> None:
        if not self.api:
            return super().at(n)
        target = self.day0 + timedelta(days=n)
        if target > self.now():
            self.travel_to(target)

    def travel_to(self, moment: datetime) -> list[int]:
        if not self.api:
            return super().travel_to(moment)
        if moment <= self.now():
            moment = self.now()
        return self.call("POST", "/clock", json={"set": moment.isoformat()})["fired_instances"]

    def sites(self) -> list[int]:
        if not self.api:
            return super().sites()
        return [site["id"] for site in self.get(f"/certificates/{self.number}")["sites"]]

    def review_previous_cycle(self, result: str = "effective") -> list[int]:
        """R-8.11: the audit department verifies every NC of the ending cycle — the ones the
        form offers (GET /tasks/{id}: form_schema, x-options previous_cycle_ncs) — and checks
        the certificate's and mark's use. Returns the NC ids verified."""
        who = self.people.audit_dept
        if self.api:
            task = self.task_of(None, "Task_ReviewPreviousCycle", who.username)
            schema = self.get(f"/tasks/{task['id']}", who.username)["form_schema"]
            nc_field = schema["properties"]["nc_checks"]["items"]["properties"]["nc_id"]
            nc_ids = [option["const"] for option in nc_field.get("oneOf", [])]
        else:
            from domain.recertification_review import cycle_nonconformities

            db.session.rollback()
            nc_ids = [nc.id for nc in cycle_nonconformities(db.session, self.certificate())]
        checks = [
            {"nc_id": nc_id, "result": result, "note": "复查记录和现场 records and site checked"}
            for nc_id in nc_ids
        ]
        self.complete(
            "Task_ReviewPreviousCycle",
            who,
            {
                "nc_checks": checks,
                "certificate_use": "proper",
                "mark_use": "proper",
                "use_findings": None,
            },
        )
        return nc_ids

    def decision_date(self) -> date:
        return self.now().date() if self.api else super().decision_date()


def _pdf(kind: str, name: str):
    from io import BytesIO

    return BytesIO(f"%PDF-1.4 {kind} {name}".encode())
