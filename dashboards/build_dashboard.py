#!/usr/bin/env python3
"""Writes dashboards/ctcollect.json, the Grafana dashboard, from the panel
list below. Edit this file, not the JSON: `python3 build_dashboard.py`
regenerates it, and a unit test fails when the two disagree.

Every panel has a description and PromQL that uses only the template
variables $instance, $pod_namespace, $netns and $ct_zone (and Grafana's
$__rate_interval),
so a test can substitute them and evaluate every expression against a real
Prometheus.
"""
import json
import os
import sys

SEL = 'instance=~"$instance",netns=~"$netns"'
ZSEL = SEL + ',ct_zone=~"$ct_zone"'
RATE = "$__rate_interval"


def target(expr, legend, ref="A"):
    return {"datasource": {"type": "prometheus", "uid": "${datasource}"},
            "expr": expr, "legendFormat": legend, "refId": ref}


def panel(kind, title, description, targets, unit=None, w=12, h=8,
          stack=False, extra=None):
    p = {"type": kind, "title": title, "description": description,
         "datasource": {"type": "prometheus", "uid": "${datasource}"},
         "targets": [target(e, l, chr(ord("A") + i))
                     for i, (e, l) in enumerate(targets)],
         "gridPos": {"w": w, "h": h},
         "fieldConfig": {"defaults": {}, "overrides": []},
         "options": {}}
    if unit:
        p["fieldConfig"]["defaults"]["unit"] = unit
    if kind == "timeseries":
        p["fieldConfig"]["defaults"]["custom"] = {
            "stacking": {"mode": "normal" if stack else "none"},
            "fillOpacity": 20 if stack else 0}
        p["options"] = {"legend": {"displayMode": "table",
                                   "placement": "right",
                                   "calcs": ["lastNotNull", "max"]},
                        "tooltip": {"mode": "multi", "sort": "desc"}}
    if extra:
        p.update(extra)
    return p


def top_table(title, by, description):
    """An instant table of the ten keys of one ranking with the most entries,
    over every selected instance and namespace, largest first."""
    expr = (f"topk(10, sum by (instance, netns, key) "
            f"(conntrack_top_entries{{{SEL},by=\"{by}\"}}))")
    return panel("table", title, description, [(expr, "")], w=8,
                 extra={"targets": [dict(target(expr, ""), format="table",
                                         instant=True)],
                        "transformations": [{"id": "organize", "options": {
                            "excludeByName": {"Time": True},
                            "indexByName": {"key": 0, "Value": 1,
                                            "instance": 2, "netns": 3},
                            "renameByName": {"Value": "entries"}}}],
                        "options": {"showHeader": True, "sortBy": [
                            {"displayName": "entries", "desc": True}]}})


ROWS = [
    ("Namespaces", [
        panel("table", "Top namespaces by entries",
              "The ten watched network namespaces (pods, with "
              "--netns.discover) holding the most conntrack entries now, with "
              "the pod a container runtime says owns each. Pick one in the "
              "Network namespace selector above to see it alone.",
              [(f"topk(10, sum by (instance, netns) (conntrack_entries{{{SEL}}})"
                f" * on (instance, netns) group_left (pod_namespace, pod)"
                f" max by (instance, netns, pod_namespace, pod) "
                f"(ctcollect_netns_info{{{SEL}}}))", "")],
              w=12,
              extra={"targets": [dict(target(
                  f"topk(10, sum by (instance, netns) (conntrack_entries{{{SEL}}})"
                  f" * on (instance, netns) group_left (pod_namespace, pod)"
                  f" max by (instance, netns, pod_namespace, pod) "
                  f"(ctcollect_netns_info{{{SEL}}}))", ""),
                  format="table", instant=True)],
                  "transformations": [{"id": "organize", "options": {
                      "excludeByName": {"Time": True},
                      "indexByName": {"netns": 0, "Value": 1,
                                      "pod_namespace": 2, "pod": 3,
                                      "instance": 4},
                      "renameByName": {"Value": "entries"}}}],
                  "options": {"showHeader": True, "sortBy": [
                      {"displayName": "entries", "desc": True}]}}),
        panel("timeseries", "Entries of the top namespaces",
              "Conntrack entries over time of the ten namespaces that hold "
              "the most now.",
              [(f"topk(10, sum by (instance, netns) (conntrack_entries{{{SEL}}}))",
                "{{instance}} {{netns}}")], w=12),
    ]),
    ("Table usage", [
        panel("gauge", "Table usage",
              "Entries in the kernel table (conntrack -C) against "
              "nf_conntrack_max. New flows are dropped when it is full.",
              [(f"max by (instance, netns) (conntrack_kernel_entries{{{SEL}}})"
                f" / max by (instance, netns) (conntrack_entries_limit{{{SEL}}})",
                "{{instance}} {{netns}}")],
              unit="percentunit", w=6,
              extra={"fieldConfig": {"defaults": {
                  "unit": "percentunit", "min": 0, "max": 1,
                  "thresholds": {"mode": "absolute", "steps": [
                      {"color": "green", "value": None},
                      {"color": "orange", "value": 0.75},
                      {"color": "red", "value": 0.9}]}},
                  "overrides": []}}),
        panel("timeseries", "Entries and limit",
              "The kernel's entry count and nf_conntrack_max per namespace.",
              [(f"conntrack_kernel_entries{{{SEL}}}", "{{instance}} {{netns}} entries"),
               (f"conntrack_entries_limit{{{SEL}}}", "{{instance}} {{netns}} limit")],
              w=12),
        panel("stat", "Time to full",
              "When the table would be full if it kept growing as over the "
              "last hour (linear prediction); empty when it is not growing.",
              [(f"(max by (instance, netns) (conntrack_entries_limit{{{SEL}}})"
                f" - max by (instance, netns) (conntrack_kernel_entries{{{SEL}}}))"
                f" / (deriv(conntrack_kernel_entries{{{SEL}}}[1h]) > 0)",
                "{{instance}} {{netns}}")],
              unit="s", w=6),
    ]),
    ("Entries", [
        panel("timeseries", "Entries by protocol",
              "Flows the collector tracks, by protocol (conntrack_entries).",
              [(f"sum by (protocol) (conntrack_entries{{{ZSEL}}})", "{{protocol}}")],
              stack=True),
        panel("timeseries", "Entries by state",
              "TCP, SCTP and DCCP flows by state, as conntrack -L names them.",
              [(f"sum by (protocol, state) (conntrack_entries{{{ZSEL},state!=\"\"}})",
                "{{protocol}} {{state}}")],
              stack=True),
        panel("timeseries", "Entries by zone",
              "Flows per conntrack zone (0 is the default zone).",
              [(f"sum by (ct_zone) (conntrack_entries{{{ZSEL}}})", "zone {{ct_zone}}")],
              stack=True),
        panel("timeseries", "Flows by status",
              "Assured, unreplied (no reply seen yet), NAT, offloaded and "
              "helper-owned flows.",
              [(f"sum by (status) (conntrack_status_entries{{{SEL}}})", "{{status}}")]),
        panel("timeseries", "Flow classes",
              "Flows in each operator-defined class of the config file "
              "(flow_classes), by state.",
              [(f"sum by (class, state) (conntrack_class_entries{{{SEL}}})",
                "{{class}} {{state}}")],
              stack=True),
    ]),
    ("Top talkers and NAT", [
        top_table("Top sources", "src",
                  "The 10 original source addresses holding the most "
                  "entries (conntrack_top_entries, by=\"src\"): who fills "
                  "the table. Only keys with at least --top.min-share "
                  "(default 1%) of their namespace's table are exported; "
                  "ctcollect top --by src --once shows the same."),
        top_table("Top destinations", "dst",
                  "The 10 original destination addresses holding the most "
                  "entries (by=\"dst\"); ctcollect top --by dst --once."),
        top_table("Top destination ports", "dport",
                  "The 10 destination ports, as PROTOCOL/PORT, holding the "
                  "most entries (by=\"dport\"); ctcollect top --by dport "
                  "--once."),
        panel("timeseries", "SNAT tuple pressure",
              "Entries of the busiest NAT source tuple (protocol, "
              "translated source, destination address and port) as a share "
              "of the 64512 source ports of the default NAT range "
              "(1024-65535). At 100% new connections to that destination "
              "fail (insert_failed); the ConntrackSnatPortsExhausting alert "
              "fires above 80%. ctcollect top --by snat --once names the "
              "tuple.",
              [(f"max by (instance, netns, protocol) (conntrack_snat_tuple_max_entries{{{SEL}}}) / 64512",
                "{{instance}} {{netns}} {{protocol}}")],
              w=24,
              extra={"fieldConfig": {"defaults": {
                  "unit": "percentunit", "min": 0, "max": 1,
                  "custom": {"stacking": {"mode": "none"}, "fillOpacity": 0,
                             "thresholdsStyle": {"mode": "line+area"}},
                  "thresholds": {"mode": "absolute", "steps": [
                      {"color": "transparent", "value": None},
                      {"color": "red", "value": 0.8}]}},
                  "overrides": []}}),
    ]),
    ("Events", [
        panel("timeseries", "Event rate",
              "New, update and destroy events per second from ctnetlink.",
              [(f"sum by (type) (rate(conntrack_events_total{{{SEL}}}[{RATE}]))",
                "{{type}}")],
              unit="ops"),
        panel("timeseries", "New flows by protocol",
              "Flows created per second, by protocol.",
              [(f"sum by (protocol) (rate(conntrack_events_total{{{SEL},type=\"new\"}}[{RATE}]))",
                "{{protocol}}")],
              unit="ops"),
        panel("timeseries", "TCP state transitions",
              "TCP state changes per second seen in update events.",
              [(f"sum by (from, to) (rate(conntrack_state_transitions_total{{{SEL},protocol=\"tcp\"}}[{RATE}]))",
                "{{from}} -> {{to}}")],
              unit="ops", w=24),
    ]),
    ("Kernel", [
        panel("timeseries", "Drops and failures",
              "Packets dropped for lack of a table slot (drop, early_drop), "
              "failed inserts and clashes, per second (conntrack -S).",
              [(f"sum by (instance, netns) (rate(conntrack_kernel_drop_total{{{SEL}}}[{RATE}]))", "drop {{instance}} {{netns}}"),
               (f"sum by (instance, netns) (rate(conntrack_kernel_early_drop_total{{{SEL}}}[{RATE}]))", "early_drop {{instance}} {{netns}}"),
               (f"sum by (instance, netns) (rate(conntrack_kernel_insert_failed_total{{{SEL}}}[{RATE}]))", "insert_failed {{instance}} {{netns}}"),
               (f"sum by (instance, netns) (rate(conntrack_kernel_clash_resolve_total{{{SEL}}}[{RATE}]))", "clash_resolve {{instance}} {{netns}}")],
              unit="pps"),
        panel("timeseries", "Invalid and errors",
              "Packets conntrack could not track (invalid) and errors, per "
              "second.",
              [(f"sum by (instance, netns) (rate(conntrack_kernel_invalid_total{{{SEL}}}[{RATE}]))", "invalid {{instance}} {{netns}}"),
               (f"sum by (instance, netns) (rate(conntrack_kernel_error_total{{{SEL}}}[{RATE}]))", "error {{instance}} {{netns}}"),
               (f"sum by (instance, netns) (rate(conntrack_kernel_search_restart_total{{{SEL}}}[{RATE}]))", "search_restart {{instance}} {{netns}}")],
              unit="pps"),
    ]),
    ("Flows that ended", [
        panel("heatmap", "Flow duration",
              "How long flows lived, from destroy events (needs "
              "nf_conntrack_timestamp, see --conntrack.enable-accounting).",
              [(f"sum by (le) (increase(conntrack_flow_duration_seconds_bucket{{{SEL}}}[{RATE}]))",
                "{{le}}")],
              extra={"options": {"calculate": False,
                                 "yAxis": {"unit": "s"},
                                 "cellGap": 1},
                     "targets": [dict(target(
                         f"sum by (le) (increase(conntrack_flow_duration_seconds_bucket{{{SEL}}}[{RATE}]))",
                         "{{le}}"), format="heatmap")]}),
        panel("timeseries", "Traffic of ended flows",
              "Bytes per second of flows that ended, by direction (needs "
              "nf_conntrack_acct).",
              [(f"sum by (direction) (rate(conntrack_flow_bytes_total{{{SEL}}}[{RATE}]))",
                "{{direction}}")],
              unit="Bps"),
        panel("timeseries", "Packets of ended flows",
              "Packets per second of flows that ended, by direction.",
              [(f"sum by (direction) (rate(conntrack_flow_packets_total{{{SEL}}}[{RATE}]))",
                "{{direction}}")],
              unit="pps"),
        panel("timeseries", "Median flow duration",
              "Median lifetime of the flows that ended, by protocol.",
              [(f"histogram_quantile(0.5, sum by (le, protocol) (rate(conntrack_flow_duration_seconds_bucket{{{SEL}}}[{RATE}])))",
                "{{protocol}}")],
              unit="s"),
    ]),
    ("Timeout policies", [
        panel("table", "Timeout policies",
              "Every timeout policy the kernel has (cttimeout, nft ct "
              "timeout, the defaults) with its value per state.",
              [(f"max by (policy, protocol, state) (conntrack_timeout_policy_seconds{{{SEL}}})", "")],
              extra={"targets": [dict(target(
                  f"max by (policy, protocol, state) (conntrack_timeout_policy_seconds{{{SEL}}})",
                  ""), format="table", instant=True)]}),
        panel("timeseries", "Entries per policy",
              "Flows by the timeout policy they run under.",
              [(f"sum by (policy) (conntrack_policy_entries{{{SEL}}})", "{{policy}}")],
              stack=True),
    ]),
    ("Helpers and expectations", [
        panel("timeseries", "Flows per helper",
              "Flows owned by a conntrack helper (ftp, sip, ...).",
              [(f"sum by (helper) (conntrack_helper_entries{{{SEL}}})", "{{helper}}")]),
        panel("timeseries", "Expectations",
              "Expectations the helpers have set up, by helper.",
              [(f"sum by (helper) (conntrack_expectations{{{SEL}}})", "{{helper}}")]),
    ]),
    ("Collector health", [
        panel("timeseries", "Events lost",
              "Event socket overruns per second: events were lost and a "
              "resync followed. Should be 0.",
              [(f"sum by (instance, netns) (rate(ctcollect_netlink_overruns_total{{{SEL}}}[{RATE}]))",
                "{{instance}} {{netns}}")],
              unit="ops", w=8),
        panel("timeseries", "Resyncs",
              "Full dumps per hour by reason (startup, interval, overrun, "
              "request).",
              [(f"sum by (reason) (increase(ctcollect_resyncs_total{{{SEL}}}[1h]))",
                "{{reason}}")],
              w=8),
        panel("timeseries", "Dump duration",
              "Wall time of the last complete table dump.",
              [(f"ctcollect_dump_duration_seconds{{{SEL}}}", "{{instance}} {{netns}}")],
              unit="s", w=8),
        panel("stat", "Sources up",
              "Whether each source of each namespace works (events, dump, "
              "kernel stats).",
              [(f"min by (instance, netns, source) (ctcollect_source_up{{{SEL}}})",
                "{{instance}} {{netns}} {{source}}")],
              w=12, extra={"fieldConfig": {"defaults": {
                  "mappings": [{"type": "value", "options": {
                      "0": {"text": "down", "color": "red"},
                      "1": {"text": "up", "color": "green"}}}]},
                  "overrides": []}}),
        panel("timeseries", "Collector memory and scrape time",
              "Memory of the collector's flow table, and how long the last "
              "scrape took to build.",
              [(f"ctcollect_flow_table_bytes{{{SEL}}}", "table bytes {{instance}} {{netns}}"),
               ('ctcollect_scrape_duration_seconds{instance=~"$instance"}', "scrape seconds {{instance}}")],
              w=12),
    ]),
    ("Replication peers", [
        panel("timeseries", "Peer entries",
              "Flows each replication peer has sent us (peer mode).",
              [('sum by (peer) (conntrack_peer_entries{instance=~"$instance"})', "{{peer}}")]),
        panel("timeseries", "Peer messages and loss",
              "Messages per second from and to each peer, and messages lost.",
              [('sum by (peer, direction) (rate(ctcollect_peer_messages_total{instance=~"$instance"}[$__rate_interval]))', "{{peer}} {{direction}}"),
               ('sum by (peer) (rate(ctcollect_peer_lost_total{instance=~"$instance"}[$__rate_interval]))', "{{peer}} lost")],
              unit="ops"),
    ]),
]


def variable(name, label, query, include_all=True):
    return {"name": name, "label": label, "type": "query",
            "datasource": {"type": "prometheus", "uid": "${datasource}"},
            "query": {"query": query, "refId": "PrometheusVariableQueryEditor-VariableQuery"},
            "definition": query, "refresh": 2, "includeAll": include_all,
            "multi": True, "allValue": ".*", "sort": 1,
            "current": {"selected": True, "text": ["All"], "value": ["$__all"]}}


def build():
    panels, y, pid = [], 0, 1
    for title, row in ROWS:
        panels.append({"type": "row", "title": title, "collapsed": False,
                       "id": pid, "gridPos": {"x": 0, "y": y, "w": 24, "h": 1},
                       "panels": []})
        pid += 1
        y += 1
        x, row_h = 0, 0
        for p in row:
            w, h = p["gridPos"]["w"], p["gridPos"]["h"]
            if x + w > 24:
                x, y = 0, y + row_h
                row_h = 0
            p["gridPos"] = {"x": x, "y": y, "w": w, "h": h}
            p["id"] = pid
            pid += 1
            x += w
            row_h = max(row_h, h)
            panels.append(p)
        y += row_h
    return {
        "__inputs": [{"name": "DS_PROMETHEUS", "label": "Prometheus",
                      "description": "The Prometheus that scrapes ctcollectd",
                      "type": "datasource", "pluginId": "prometheus",
                      "pluginName": "Prometheus"}],
        "__requires": [
            {"type": "grafana", "id": "grafana", "name": "Grafana", "version": "10.0.0"},
            {"type": "datasource", "id": "prometheus", "name": "Prometheus", "version": "1.0.0"}],
        "uid": "ctcollect-conntrack",
        "title": "Connection tracking (ctcollect)",
        "description": "The kernel's connection-tracking table as ctcollectd sees it.",
        "tags": ["conntrack", "netfilter", "ctcollect"],
        "editable": True, "graphTooltip": 1, "schemaVersion": 39,
        "version": 1, "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "timepicker": {},
        "annotations": {"list": []},
        "links": [],
        "templating": {"list": [
            {"name": "datasource", "label": "Data source", "type": "datasource",
             "query": "prometheus", "current": {}, "hide": 0,
             "includeAll": False, "multi": False, "refresh": 1},
            variable("instance", "Instance", "label_values(ctcollect_build_info, instance)"),
            variable("pod_namespace", "Pod namespace",
                     'label_values(ctcollect_netns_info{instance=~"$instance"}, pod_namespace)'),
            variable("netns", "Network namespace",
                     'label_values(ctcollect_netns_info{instance=~"$instance",pod_namespace=~"$pod_namespace"}, netns)'),
            variable("ct_zone", "Zone",
                     'label_values(conntrack_entries{instance=~"$instance",netns=~"$netns"}, ct_zone)'),
        ]},
        "panels": panels,
    }


def main():
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ctcollect.json")
    text = json.dumps(build(), indent=2, sort_keys=False) + "\n"
    if len(sys.argv) > 1 and sys.argv[1] == "--check":
        with open(out) as f:
            if f.read() != text:
                sys.exit("dashboards/ctcollect.json is out of date: run "
                         "python3 dashboards/build_dashboard.py")
        return
    with open(out, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
