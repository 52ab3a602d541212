"""The Google emulators through Google's own client library (PyPI google-api-python-client,
with the discovery documents it ships): Secret Manager secrets, versions and IAM; Cloud Run v2
services and their long-running operations — create, get, list, delete — asserting on what
the library parsed. Run by tests/emulators/tests/vendor_clients.rs:

    python3 google_apis.py secretmanager|cloudrun BASE_URL
"""
import base64
import sys
import time

import google.oauth2.credentials
from googleapiclient import discovery
from googleapiclient.errors import HttpError

CHECKS = 0


def check(cond, msg):
    global CHECKS
    if not cond:
        raise AssertionError(msg)
    CHECKS += 1


def client(api, version, base_url):
    creds = google.oauth2.credentials.Credentials(token="vendor-check-token")
    return discovery.build(api, version, credentials=creds, static_discovery=True,
                           client_options={"api_endpoint": base_url.rstrip("/") + "/"}, num_retries=0)


def status_of(e):
    return int(e.resp.status), e.error_details, e.reason


def secret_manager(base_url):
    sm = client("secretmanager", "v1", base_url).projects().secrets()
    parent = "projects/vendor-proj"
    s = sm.create(parent=parent, secretId="db-url",
                  body={"replication": {"automatic": {}}, "labels": {"app": "x"}}).execute()
    check(s["name"].endswith("/secrets/db-url") and s["replication"] == {"automatic": {}}, s)
    check(s["labels"] == {"app": "x"}, s)
    plain = sm.create(parent=parent, secretId="plain", body={"replication": {"automatic": {}}}).execute()
    check("labels" not in plain, f"empty labels are omitted (proto3 JSON): {plain}")
    got = sm.get(name=f"{parent}/secrets/db-url").execute()
    check(got["name"] == s["name"] and "createTime" in got, got)
    listed = sm.list(parent=parent).execute()
    check(sorted(x["name"].rsplit("/", 1)[1] for x in listed["secrets"]) == ["db-url", "plain"], listed)
    try:
        sm.create(parent=parent, secretId="db-url", body={"replication": {"automatic": {}}}).execute()
        raise AssertionError("a duplicate secret was accepted")
    except HttpError as e:
        check(int(e.resp.status) == 409 and "already exists" in str(e.reason), status_of(e))

    data = base64.b64encode(b"postgres://app@db/x").decode()
    v = sm.addVersion(parent=f"{parent}/secrets/db-url", body={"payload": {"data": data}}).execute()
    check(v["name"].endswith("/versions/1") and v["state"] == "ENABLED", v)
    acc = sm.versions().access(name=f"{parent}/secrets/db-url/versions/latest").execute()
    check(base64.b64decode(acc["payload"]["data"]) == b"postgres://app@db/x", "payload round trip")
    check(acc["name"].endswith("/versions/1"), acc)
    versions = sm.versions().list(parent=f"{parent}/secrets/db-url").execute()
    check([x["name"].rsplit("/", 1)[1] for x in versions["versions"]] == ["1"], versions)
    off = sm.versions().disable(name=f"{parent}/secrets/db-url/versions/1", body={}).execute()
    check(off["state"] == "DISABLED", off)
    try:
        sm.versions().access(name=f"{parent}/secrets/db-url/versions/latest").execute()
        raise AssertionError("a disabled version was accessed")
    except HttpError as e:
        check(int(e.resp.status) == 400, status_of(e))
    gone = sm.versions().destroy(name=f"{parent}/secrets/db-url/versions/1", body={}).execute()
    check(gone["state"] == "DESTROYED" and "destroyTime" in gone, gone)

    policy = sm.getIamPolicy(resource=f"{parent}/secrets/db-url").execute()
    check("bindings" not in policy and "etag" in policy, policy)
    policy["bindings"] = [{"role": "roles/secretmanager.secretAccessor", "members": ["user:a@example.com"]}]
    set_ = sm.setIamPolicy(resource=f"{parent}/secrets/db-url", body={"policy": policy}).execute()
    check(set_["bindings"][0]["members"] == ["user:a@example.com"], set_)

    check(sm.delete(name=f"{parent}/secrets/db-url").execute() == {}, "delete answers Empty")
    try:
        sm.get(name=f"{parent}/secrets/db-url").execute()
        raise AssertionError("a deleted secret was found")
    except HttpError as e:
        check(int(e.resp.status) == 404, status_of(e))


def cloud_run(base_url):
    run = client("run", "v2", base_url).projects().locations()
    parent = "projects/vendor-proj/locations/us-central1"

    def wait(op):
        for _ in range(300):
            if op.get("done"):
                return op
            time.sleep(0.02)
            op = run.operations().get(name=op["name"]).execute()
        raise AssertionError(f"operation never finished: {op}")

    body = {"template": {"containers": [{"image": "us-docker.pkg.dev/cloudrun/container/hello",
                                         "env": [{"name": "MODE", "value": "prod"}]}],
                         "scaling": {"minInstanceCount": 0, "maxInstanceCount": 3}}}
    op = run.services().create(parent=parent, serviceId="api", body=body).execute()
    check("done" not in op and op["name"].startswith("projects/"), f"a fresh operation is not done: {op}")
    op = wait(op)
    check("error" not in op and op["response"]["@type"].endswith("google.cloud.run.v2.Service"), op)
    svc = run.services().get(name=f"{parent}/services/api").execute()
    check(svc["terminalCondition"]["state"] == "CONDITION_SUCCEEDED" and svc["uri"], svc)
    check("reconciling" not in svc, "reconciling: false is omitted (proto3 JSON)")
    check("minInstanceCount" not in svc["template"]["scaling"], f"a zero count is omitted: {svc['template']['scaling']}")
    check(svc["template"]["scaling"]["maxInstanceCount"] == 3 and svc["generation"] == "1", svc)
    listed = run.services().list(parent=parent).execute()
    check([s["name"] for s in listed["services"]] == [svc["name"]], listed)
    try:
        run.services().create(parent=parent, serviceId="api", body=body).execute()
        raise AssertionError("a duplicate service was accepted")
    except HttpError as e:
        check(int(e.resp.status) == 409, status_of(e))

    body["template"]["containers"][0]["env"][0]["value"] = "canary"
    op = wait(run.services().patch(name=f"{parent}/services/api", body=body).execute())
    check(op["response"]["generation"] == "2", op)

    bad = wait(run.services().create(parent=parent, serviceId="broken",
                                     body={"template": {"containers": [{"image": "gcr.io/x/does-not-exist"}]}}).execute())
    check(bad["error"]["code"] == 9 and "not found" in bad["error"]["message"], bad)
    broken = run.services().get(name=f"{parent}/services/broken").execute()
    check(broken["terminalCondition"]["state"] == "CONDITION_FAILED", broken)

    policy = run.services().getIamPolicy(resource=f"{parent}/services/api").execute()
    policy["bindings"] = [{"role": "roles/run.invoker", "members": ["allUsers"]}]
    set_ = run.services().setIamPolicy(resource=f"{parent}/services/api", body={"policy": policy}).execute()
    check(set_["bindings"][0]["members"] == ["allUsers"], set_)

    for name in ("api", "broken"):
        op = wait(run.services().delete(name=f"{parent}/services/{name}").execute())
        check("error" not in op, op)
    try:
        run.services().get(name=f"{parent}/services/api").execute()
        raise AssertionError("a deleted service was found")
    except HttpError as e:
        check(int(e.resp.status) == 404, status_of(e))


if __name__ == "__main__":
    which, base = sys.argv[1], sys.argv[2]
    {"secretmanager": secret_manager, "cloudrun": cloud_run}[which](base)
    from importlib.metadata import version
    print(f"vendor client check passed: google-api-python-client {version('google-api-python-client')} ({which}), "
          f"{CHECKS} checks")
