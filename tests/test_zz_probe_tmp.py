import pytest
from tests.test_api import api  # noqa: F401  (fixture)


def test_probe(api):
    for path in ("/instances/99999999999999999999999", "/tasks/%00", "/instances/9223372036854775808"):
        r = api.get("ada", path)
        print(path, r.status_code, r.json)
    r = api.get("ada", "/tasks", business_key="a\x00b")
    print("bk nul", r.status_code, r.json)
    r = api.post("mia", "/instances", {"process_id": "review\u0000flow"})
    print("pid nul", r.status_code, r.json)
    r = api.post("mia", "/messages", {"name": "m\u0000", "correlation": {"business_key": "x"}})
    print("msg nul", r.status_code, r.json)
    r = api.post("mia", "/messages", {"name": "m", "correlation": {"business_key": "x"}, "payload": {"a": "\u0000"}})
    print("payload nul", r.status_code, r.json)
    r = api.post("ada", "/incidents/99999999999999999999999/retry")
    print("incident big", r.status_code, r.json)
    r = api.post("ada", "/clock", {"advance": "P99999Y"})
    print("clock big", r.status_code, r.json)
    with api.app.app_context():
        from engine.service import Actor
        eng = api.app.extensions["certflow.engine"]
        try:
            eng.send_message("m", correlation={"instance_id": "abc"}, actor=Actor("x", frozenset({"market"})))
        except Exception as e:
            print("engine send_message:", type(e).__name__, e)
