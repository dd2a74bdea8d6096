#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# Holds every reply the API tests received (the JSON lines tests/apiutil.c writes when
# PATRON_API_REPLY_LOG names a file) to docs/openapi.yaml with a real JSON Schema validator
# (python3-jsonschema, draft 2020-12, the dialect of OpenAPI 3.1). A reply fails when its
# route, method or status is not documented, when its content type is not the documented one,
# or when its body does not validate, problem documents included.
#
# Usage: check_replies.py OPENAPI.yaml LOG... ; exit status 0 when every reply holds.
import datetime
import json
import re
import sys

try:
    import jsonschema
    import yaml
except ImportError as e:
    sys.exit(f"check_replies: {e}; install python3-jsonschema and python3-yaml "
             "(scripts/install-deps.sh)")

METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def format_checker():
    """The formats the file uses, checked strictly: times are ISO 8601 UTC ("...Z")."""
    fc = jsonschema.FormatChecker(formats=())

    @fc.checks("date-time", raises=ValueError)
    def date_time(v):
        if not isinstance(v, str):
            return True
        if not ISO_UTC.match(v):
            return False
        datetime.datetime.fromisoformat(v[:19])
        return True

    @fc.checks("date", raises=ValueError)
    def date(v):
        if not isinstance(v, str):
            return True
        if not re.fullmatch(r"\d{4}-\d\d-\d\d", v):
            return False
        datetime.date.fromisoformat(v)
        return True

    @fc.checks("uri")
    def uri(v):
        return not isinstance(v, str) or re.match(r"^[a-z][a-z0-9+.-]*:[^\s]+$", v) is not None

    return fc


class Spec:
    def __init__(self, path):
        with open(path, encoding="utf-8") as f:
            self.doc = yaml.safe_load(f)
        cls = jsonschema.Draft202012Validator
        cls.check_schema({"$defs": self.doc["components"]["schemas"]})
        self.resolver = jsonschema.RefResolver("", self.doc)
        self.checker = format_checker()
        self.routes = []
        for template, item in self.doc["paths"].items():
            pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"
            # Literal segments win over parameters: /v1/vouchers/check before /v1/vouchers/{id}.
            self.routes.append((template.count("{"), template, re.compile(pattern), item))
        self.routes.sort(key=lambda r: r[0])

    def route(self, path):
        for _, template, pattern, item in self.routes:
            if pattern.match(path):
                return template, item
        return None, None

    def resolve(self, obj):
        while isinstance(obj, dict) and "$ref" in obj:
            _, obj = self.resolver.resolve(obj["$ref"])
        return obj

    def validate(self, schema, instance):
        v = jsonschema.Draft202012Validator(schema, resolver=self.resolver,
                                            format_checker=self.checker)
        return [f"{'/'.join(map(str, e.absolute_path)) or '(body)'}: {e.message}"
                for e in sorted(v.iter_errors(instance), key=lambda e: list(e.absolute_path))]


def response_for(spec, rec):
    """The documented response of a reply, or an error string."""
    path = (rec["path"] or "").split("?", 1)[0]
    status = rec["status"]
    template, item = spec.route(path)
    op = item.get(rec["method"].lower()) if item else None
    if op is None:
        # Not a documented operation: only the service's own refusals may answer it.
        if status in (404, 405):
            return spec.resolve(spec.doc["components"]["responses"]["Problem"]), None
        where = "route" if item is None else "method"
        return None, f"undocumented {where} answered {status}"
    responses = op.get("responses", {})
    if str(status) in responses:
        return spec.resolve(responses[str(status)]), None
    if "default" in responses and status >= 400:
        return spec.resolve(responses["default"]), None
    return None, f"status {status} is not documented for {rec['method']} {template}"


def check(spec, rec):
    response, err = response_for(spec, rec)
    if err:
        return [err]
    content = response.get("content")
    ctype = (rec["type"] or "").split(";", 1)[0].strip().lower()
    if not content:
        return [] if not rec.get("body") else [f"undocumented body with {ctype or 'no type'}"]
    if ctype not in content:
        return [f"content type {ctype!r}, documented {sorted(content)}"]
    schema = (content[ctype] or {}).get("schema")
    if schema is None:
        return []
    if rec.get("body") is None:
        return ["the body is not UTF-8"]
    try:
        body = json.loads(rec["body"])
    except ValueError as e:
        return [f"the body is not JSON: {e}"]
    return spec.validate(schema, body)


def main(argv):
    if len(argv) < 3:
        sys.exit("usage: check_replies.py OPENAPI.yaml LOG...")
    spec = Spec(argv[1])
    seen, checked, failures = set(), 0, 0
    for log in argv[2:]:
        try:
            f = open(log, encoding="utf-8")
        except OSError as e:
            print(f"{log}: {e.strerror}: did its test run with PATRON_API_REPLY_LOG set?")
            failures += 1
            continue
        with f:
            for n, line in enumerate(f, 1):
                rec = json.loads(line)
                key = (rec["method"], rec["path"], rec["status"], rec["type"], rec.get("body"))
                if key in seen:
                    continue
                seen.add(key)
                checked += 1
                errors = check(spec, rec)
                if errors:
                    failures += 1
                    body = (rec.get("body") or "")[:300]
                    print(f"{log}:{n}: {rec['method']} {rec['path']} -> {rec['status']} "
                          f"{rec['type']}\n  " + "\n  ".join(errors) + f"\n  body: {body}")
    print(f"{checked} distinct replies checked against {argv[1]}, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
