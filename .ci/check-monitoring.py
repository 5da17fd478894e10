#!/usr/bin/env python3
"""Checks the monitoring objects of a rendered chart that kubernetes-validate has no
schema for (the Prometheus operator's CRDs), and prepares their contents for promtool.

Usage: check-monitoring.py RENDERED.yaml CORE_OUT.yaml OUT_DIR

- Writes every object of a core kind to CORE_OUT.yaml (for kubernetes-validate --strict).
- PrometheusRule: the shape of the monitoring.coreos.com/v1 CRD (groups, rules, only
  known keys, string labels and annotations, durations); spec.groups written to
  OUT_DIR/datahub-scim.rules.yaml for `promtool check rules` / `promtool test rules`.
- ServiceMonitor: selects the chart's Service and scrapes its admin port at /metrics.
- The dashboard ConfigMap: carries the Grafana sidecar label, holds a dashboard whose
  every query is written to OUT_DIR/dashboard-queries.yaml as a recording rule (Grafana
  variables replaced) so that `promtool check rules` parses each one.
"""
import json
import re
import sys

import yaml

CRD_KINDS = {"PrometheusRule", "ServiceMonitor"}
DURATION = re.compile(r"^(0|([0-9]+(ms|s|m|h|d|w|y))+)$")
GROUP_KEYS = {"name", "interval", "rules", "limit", "partial_response_strategy", "query_offset", "labels"}
RULE_KEYS = {"alert", "record", "expr", "for", "keep_firing_for", "labels", "annotations"}


def fail(msg):
    sys.exit(f"check-monitoring: {msg}")


def string_map(where, m):
    if m is None:
        return
    if not isinstance(m, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in m.items()):
        fail(f"{where}: must map strings to strings, got {m!r}")


def check_rule(obj):
    if obj.get("apiVersion") != "monitoring.coreos.com/v1":
        fail(f"PrometheusRule apiVersion {obj.get('apiVersion')}")
    string_map("PrometheusRule metadata.labels", obj["metadata"].get("labels"))
    spec = obj.get("spec") or {}
    if set(spec) != {"groups"}:
        fail(f"PrometheusRule spec keys {sorted(spec)}")
    groups = spec["groups"]
    if not isinstance(groups, list) or not groups:
        fail("PrometheusRule has no groups")
    names = set()
    for g in groups:
        if set(g) - GROUP_KEYS or "name" not in g or not g.get("rules"):
            fail(f"group {g.get('name')}: keys {sorted(g)}")
        if g["name"] in names:
            fail(f"duplicate group {g['name']}")
        names.add(g["name"])
        for r in g["rules"]:
            if set(r) - RULE_KEYS:
                fail(f"rule {r}: unknown keys {sorted(set(r) - RULE_KEYS)}")
            if ("alert" in r) == ("record" in r):
                fail(f"rule {r}: exactly one of alert/record")
            if not isinstance(r.get("expr"), str) or not r["expr"].strip():
                fail(f"rule {r.get('alert') or r.get('record')}: expr must be a non-empty string")
            for k in ("for", "keep_firing_for"):
                if k in r and not DURATION.match(str(r[k])):
                    fail(f"rule {r.get('alert')}: {k}={r[k]!r} is not a duration")
            string_map(f"rule {r.get('alert')} labels", r.get("labels"))
            string_map(f"rule {r.get('alert')} annotations", r.get("annotations"))
    return {"groups": groups}


def check_service_monitor(obj, services):
    if obj.get("apiVersion") != "monitoring.coreos.com/v1":
        fail(f"ServiceMonitor apiVersion {obj.get('apiVersion')}")
    spec = obj["spec"]
    sel = spec["selector"]["matchLabels"]
    matching = [s for s in services if all(s["metadata"].get("labels", {}).get(k) == v for k, v in sel.items())]
    if len(matching) != 1:
        fail(f"ServiceMonitor selects {len(matching)} Services")
    ports = {p["name"] for p in matching[0]["spec"]["ports"]}
    for ep in spec["endpoints"]:
        if ep.get("port") not in ports or ep.get("path") != "/metrics":
            fail(f"ServiceMonitor endpoint {ep} does not scrape a Service port at /metrics")
        if "interval" in ep and not DURATION.match(str(ep["interval"])):
            fail(f"ServiceMonitor interval {ep['interval']!r}")


def dashboard_queries(cm):
    labels = cm["metadata"].get("labels", {})
    if labels.get("grafana_dashboard") != "1":
        fail("dashboard ConfigMap lacks the grafana_dashboard: \"1\" label")
    (name, text), = cm["data"].items()
    if not name.endswith(".json"):
        fail(f"dashboard key {name} must end in .json")
    dash = json.loads(text)
    if not dash.get("uid") or not dash.get("title"):
        fail("dashboard needs a uid and a title")
    exprs = []

    def walk(panels):
        for p in panels:
            for t in p.get("targets", []):
                exprs.append(t["expr"])
            walk(p.get("panels", []))

    walk(dash["panels"])
    if not exprs:
        fail("the dashboard has no queries")

    def concrete(e):
        for var, val in (("$__rate_interval", "5m"), ("$__range", "1h"), ("$job", ".*"), ("$instance", ".*")):
            e = e.replace(var, val)
        if "$" in e:
            fail(f"unknown dashboard variable in {e}")
        return e

    rules = [{"record": f"dashboard:query_{i}", "expr": concrete(e)} for i, e in enumerate(exprs)]
    return {"groups": [{"name": "dashboard-queries", "rules": rules}]}


def main():
    rendered, core_out, out_dir = sys.argv[1:4]
    docs = [d for d in yaml.safe_load_all(open(rendered)) if d]
    core = [d for d in docs if d["kind"] not in CRD_KINDS]
    services = [d for d in docs if d["kind"] == "Service"]
    seen = set()
    for d in docs:
        if d["kind"] == "PrometheusRule":
            yaml.safe_dump(check_rule(d), open(f"{out_dir}/datahub-scim.rules.yaml", "w"), sort_keys=False)
            seen.add("rules")
        elif d["kind"] == "ServiceMonitor":
            check_service_monitor(d, services)
            seen.add("servicemonitor")
        elif d["kind"] == "ConfigMap" and d["metadata"]["name"].endswith("-dashboard"):
            yaml.safe_dump(dashboard_queries(d), open(f"{out_dir}/dashboard-queries.yaml", "w"))
            seen.add("dashboard")
    if seen != {"rules", "servicemonitor", "dashboard"}:
        fail(f"expected a PrometheusRule, a ServiceMonitor and a dashboard, found {sorted(seen)}")
    yaml.safe_dump_all(core, open(core_out, "w"))
    print(f"check-monitoring: {len(docs) - len(core)} monitoring CRD objects and the dashboard are well-formed")


main()
