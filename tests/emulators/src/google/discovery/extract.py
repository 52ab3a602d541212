"""Extracts the request/response schemas the Google emulators validate against from the
discovery documents shipped in PyPI google-api-python-client
(googleapiclient/discovery_cache/documents/{run.v2,secretmanager.v1}.json).

Usage: python3 extract.py <documents-dir>   (writes run_v2.json and secretmanager_v1.json here)

Only the structure is kept (field names, JSON types, formats, enums, output-only flags), for
every schema reachable from the roots below: the request bodies the emulators validate and the
responses whose default-valued fields they omit, as proto3 JSON does.
"""
import json
import os
import sys

ROOTS = {
    "run.v2.json": ("run_v2.json", ["GoogleCloudRunV2Service", "GoogleIamV1SetIamPolicyRequest",
                                     "GoogleLongrunningWaitOperationRequest", "GoogleLongrunningOperation",
                                     "GoogleCloudRunV2ListServicesResponse",
                                     "GoogleLongrunningListOperationsResponse"]),
    "secretmanager.v1.json": ("secretmanager_v1.json", ["Secret", "AddSecretVersionRequest",
                                                         "SetIamPolicyRequest", "EnableSecretVersionRequest",
                                                         "DisableSecretVersionRequest", "DestroySecretVersionRequest",
                                                         "SecretVersion", "ListSecretsResponse",
                                                         "ListSecretVersionsResponse", "AccessSecretVersionResponse"]),
}


def slim(prop):
    out = {}
    for k in ("type", "format", "$ref", "enum", "readOnly"):
        if k in prop:
            out[k] = prop[k]
    if "items" in prop:
        out["items"] = slim(prop["items"])
    if "additionalProperties" in prop:
        out["additionalProperties"] = slim(prop["additionalProperties"])
    return out


def refs(prop):
    if "$ref" in prop:
        yield prop["$ref"]
    for k in ("items", "additionalProperties"):
        if k in prop:
            yield from refs(prop[k])


def main(src):
    here = os.path.dirname(os.path.abspath(__file__))
    for doc, (out_name, roots) in ROOTS.items():
        d = json.load(open(os.path.join(src, doc)))
        schemas = d["schemas"]
        keep, todo = {}, list(roots)
        while todo:
            name = todo.pop()
            if name in keep:
                continue
            s = schemas[name]
            props = {k: slim(v) for k, v in s.get("properties", {}).items()}
            keep[name] = {"type": s.get("type", "object"), "properties": props}
            for v in s.get("properties", {}).values():
                todo.extend(refs(v))
        out = {"source": f"{doc} revision {d.get('revision')}", "schemas": dict(sorted(keep.items()))}
        with open(os.path.join(here, out_name), "w") as f:
            json.dump(out, f, indent=0, sort_keys=False)
            f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
