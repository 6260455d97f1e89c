// Validates the Kubernetes manifests, deploy/kubernetes/*.yaml.
//
// Every document goes through the model class kubernetes-models has for its
// apiVersion and kind (generated from the Kubernetes OpenAPI schema; the
// prometheus-operator package for its CRDs) and its .validate(). An unknown
// kind is an error, and so is a field the schema does not know: the models
// let those through, `kubectl apply` (strict field validation) does not.
// Then the rules no schema says: what the DaemonSet may do (not privileged,
// exactly NET_ADMIN, SYS_ADMIN and SYS_PTRACE, hostPID, read-only host
// paths), where its probes point, that the Service, the PodMonitor and the
// probes name ports the container has, and that the ConfigMap's
// ctcollectd.conf is YAML the daemon takes.
//
// Usage: node validate.mjs [--root=REPO] [--self-test]
//   Prints every check; on errors one line each, FILE doc N (KIND NAME):
//   WHAT, and exits 1. --self-test instead runs the checks on the manifests
//   as they are (no error allowed) and on broken copies of them (a string
//   hostPID, an extra capability, a writable host path, ...), each of which
//   must be rejected by the check meant to catch it.
//
// Run by validate_test.sh, which installs the pinned packages
// (package-lock.json) next to a copy of this file in the build tree.

import { existsSync, readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import YAML from "yaml";

const MANIFEST_DIR = "deploy/kubernetes";
// The config file sample that documents every key the daemon takes.
const SAMPLE_CONFIG = "systemd/ctcollectd.conf";
const CONTAINER = "ctcollectd";
const CAPABILITIES = ["NET_ADMIN", "SYS_ADMIN", "SYS_PTRACE"];
const LABELS = {
  "app.kubernetes.io/name": "ctcollectd",
  "app.kubernetes.io/component": "exporter",
};
// API groups served by CRDs, and the package that has their models. Other
// groups are looked up in kubernetes-models (the built-in API).
const CRD_PACKAGES = {
  "monitoring.coreos.com": "@kubernetes-models/prometheus-operator",
};
// A hostPath at or above one of these hands the pod a container runtime's
// API: a read-only mount does not stop connect() on a UNIX socket.
const RUNTIME_SOCKETS = [
  "/run/containerd/containerd.sock",
  "/run/k3s/containerd/containerd.sock",
  "/run/crio/crio.sock",
  "/run/docker.sock",
  "/run/cri-dockerd.sock",
];

// ---------------------------------------------------------------- loading

// The documents of one file, parsed as kubectl does (YAML 1.1: 0644 is
// octal, yes is true; a key twice is an error). Returns {docs, errors}.
export function parseManifest(text, file) {
  const docs = [];
  const errors = [];
  const parsed = YAML.parseAllDocuments(text, { version: "1.1", uniqueKeys: true });
  const list = Array.isArray(parsed) ? parsed : [parsed];
  list.forEach((doc, i) => {
    const where = `${file} doc ${i + 1}`;
    for (const e of doc.errors) errors.push(`${where}: YAML: ${oneLine(e.message)}`);
    if (doc.errors.length || doc.contents === null) return;  // empty: a stray ---
    docs.push({ file, n: i + 1, obj: doc.toJS() });
  });
  return { docs, errors };
}

function loadManifests(root) {
  const dir = path.join(root, MANIFEST_DIR);
  const files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort();
  const docs = [];
  const errors = [];
  if (!files.length) errors.push(`${MANIFEST_DIR}: no *.yaml`);
  for (const f of files) {
    const r = parseManifest(readFileSync(path.join(dir, f), "utf8"), `${MANIFEST_DIR}/${f}`);
    docs.push(...r.docs);
    errors.push(...r.errors);
  }
  return { docs, errors };
}

const modelCache = new Map();

// The model class of apiVersion/kind, or null when no package has one.
async function modelClass(apiVersion, kind) {
  const m = /^(?:([a-z0-9][a-z0-9.-]*)\/)?(v[0-9]+(?:(?:alpha|beta)[0-9]+)?)$/.exec(
    typeof apiVersion === "string" ? apiVersion : "");
  if (!m || typeof kind !== "string" || !/^[A-Z][A-Za-z0-9]*$/.test(kind)) return null;
  const group = m[1] ?? "";
  const builtin = group === "" || !group.includes(".") || group.endsWith(".k8s.io");
  const pkg = CRD_PACKAGES[group] ?? (builtin ? "kubernetes-models" : null);
  if (!pkg) return null;
  const spec = `${pkg}/${group ? `${group}/` : ""}${m[2]}/${kind}`;
  if (!modelCache.has(spec)) {
    let cls = null;
    try {
      cls = (await import(spec))[kind] ?? null;
    } catch (e) {
      if (e.code !== "ERR_MODULE_NOT_FOUND" && e.code !== "ERR_PACKAGE_PATH_NOT_EXPORTED") throw e;
    }
    // A class for another kind (e.g. a List) is no match either.
    if (cls && (cls.apiVersion !== apiVersion || cls.kind !== kind)) cls = null;
    modelCache.set(spec, cls ? { cls, spec } : null);
  }
  return modelCache.get(spec);
}

// ------------------------------------------------------- schema checking

// A view of `root` that records, per object, which keys were read through
// it. The models' validators are compiled JSON Schema: they read every key
// the schema describes (present or not) and iterate the keys of maps, so a
// key of an object nobody read is one the schema does not have.
function recordReads(root) {
  const reads = new WeakMap();
  const views = new WeakMap();
  const view = (v) => {
    if (v === null || typeof v !== "object") return v;
    if (views.has(v)) return views.get(v);
    const keys = new Set();
    reads.set(v, keys);
    const p = new Proxy(v, {
      get(t, k, r) {
        if (typeof k === "string") keys.add(k);
        return view(Reflect.get(t, k, r));
      },
      has(t, k) {
        if (typeof k === "string") keys.add(k);
        return Reflect.has(t, k);
      },
      ownKeys(t) {
        const ks = Reflect.ownKeys(t);
        for (const k of ks) if (typeof k === "string") keys.add(k);
        return ks;
      },
    });
    views.set(v, p);
    return p;
  };
  return { view: view(root), reads };
}

function unknownFields(node, reads, at, out) {
  if (Array.isArray(node)) {
    node.forEach((v, i) => unknownFields(v, reads, `${at}[${i}]`, out));
    return;
  }
  if (node === null || typeof node !== "object") return;
  const read = reads.get(node);
  for (const k of Object.keys(node)) {
    const p = at ? `${at}.${k}` : k;
    // An object none of whose keys was read has no schema of its own
    // (free-form, x-kubernetes-preserve-unknown-fields): nothing to say.
    if (read && read.size && !read.has(k)) out.push(p);
    else unknownFields(node[k], reads, p, out);
  }
}

function pointerToPath(ptr) {
  return ptr.split("/").slice(1)
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"))
    .reduce((acc, s) => (/^[0-9]+$/.test(s) ? `${acc}[${s}]` : acc ? `${acc}.${s}` : s), "");
}

async function checkSchema(d, r) {
  const { apiVersion, kind } = d.obj;
  const model = await modelClass(apiVersion, kind);
  if (!model) {
    r.fail(d, `unknown apiVersion/kind ${apiVersion}/${kind}: no model in kubernetes-models ` +
      `or ${Object.values(CRD_PACKAGES).join(", ")} (add its package to CRD_PACKAGES)`);
    return;
  }
  const instance = new model.cls(d.obj);
  const { view, reads } = recordReads(instance);
  let schemaErrors = 0;
  try {
    instance.validate.call(view);
  } catch (e) {
    if (!Array.isArray(e.errors)) throw e;
    for (const err of e.errors) {
      r.fail(d, `${pointerToPath(err.instancePath) || "(document)"} ${err.message}` +
        (err.params?.allowedValues ? ` (${err.params.allowedValues.join(", ")})` : ""));
      schemaErrors++;
    }
  }
  r.ok(d, `valid ${model.spec}`);
  if (schemaErrors) return;  // a failed branch may have left keys unread
  const unknown = [];
  unknownFields(instance, reads, "", unknown);
  for (const p of unknown) r.fail(d, `${p}: unknown field (not in the ${kind} schema)`);
  r.ok(d, "no field the schema lacks");
}

// ------------------------------------------------------- the other rules

class Report {
  constructor() {
    this.errors = [];
    this.checks = [];
  }
  static where(d) {
    const o = d.obj ?? {};
    return `${d.file} doc ${d.n} (${o.kind ?? "?"} ${o.metadata?.name ?? "?"})`;
  }
  ok(d, what) {
    this.checks.push(`${Report.where(d)}: ${what}`);
  }
  fail(d, what) {
    this.errors.push(`${Report.where(d)}: ${what}`);
  }
  // Records the check, and an error with `why` unless `cond`.
  expect(d, cond, what, why) {
    this.ok(d, what);
    if (!cond) this.fail(d, why ?? `expected ${what}`);
  }
}

const isObj = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
const fmt = (v) => (v === undefined ? "absent" : JSON.stringify(v));
const subset = (sel, labels) =>
  isObj(sel) && Object.keys(sel).length > 0 &&
  Object.entries(sel).every(([k, v]) => isObj(labels) && labels[k] === v);
const normHostPath = (p) => path.posix.normalize(String(p)).replace(/^\/var\/run(\/|$)/, "/run$1").replace(/\/$/, "") || "/";

function containerPortOf(c, port) {
  const ports = c.ports ?? [];
  return typeof port === "string" ? ports.find((p) => p.name === port)
    : ports.find((p) => p.containerPort === port);
}

// Dotted paths of the keys of nested mappings (a list is a leaf).
function keyPaths(v, at = "", out = []) {
  if (!isObj(v)) {
    if (at) out.push(at);
    return out;
  }
  for (const [k, sub] of Object.entries(v)) keyPaths(sub, at ? `${at}.${k}` : k, out);
  return out;
}

function listenPorts(v) {
  const list = Array.isArray(v) ? v : v === undefined ? [":10034"] : [v];
  return list.map((a) => {
    const m = /:([0-9]+)$/.exec(String(a));
    return m ? Number(m[1]) : NaN;
  });
}

function checkDaemonSet(d, ctx, r) {
  const spec = d.obj.spec ?? {};
  const tmpl = spec.template ?? {};
  const pod = tmpl.spec ?? {};
  const podLabels = tmpl.metadata?.labels;
  r.expect(d, subset(spec.selector?.matchLabels, podLabels),
    "spec.selector.matchLabels selects the pod template's labels",
    `spec.selector.matchLabels ${fmt(spec.selector?.matchLabels)} does not select the template's labels ${fmt(podLabels)} (the API server refuses it)`);
  r.expect(d, subset(LABELS, podLabels), `pod template labelled ${fmt(LABELS)}`);
  r.expect(d, pod.hostPID === true, "hostPID: true",
    `hostPID is ${fmt(pod.hostPID)}: discovery reads /proc/PID/ns/net of the node's processes`);
  r.expect(d, pod.hostNetwork === true, "hostNetwork: true",
    `hostNetwork is ${fmt(pod.hostNetwork)}: the daemon's own namespace must be the node's`);

  const volumes = new Map();
  for (const v of pod.volumes ?? []) {
    if (volumes.has(v.name)) r.fail(d, `volume "${v.name}" defined twice`);
    volumes.set(v.name, v);
  }
  for (const v of volumes.values()) {
    if (!v.hostPath) continue;
    const hp = normHostPath(v.hostPath.path);
    const sock = RUNTIME_SOCKETS.find((s) => s === hp || s.startsWith(hp === "/" ? "/" : `${hp}/`));
    r.expect(d, !sock, `hostPath ${v.hostPath.path} holds no container runtime socket`,
      `volume "${v.name}": hostPath ${v.hostPath.path} contains ${sock}; a read-only mount does not stop connect(), mount the directory below it that is needed`);
  }

  for (const c of [...(pod.initContainers ?? []), ...(pod.containers ?? [])]) {
    r.expect(d, c.securityContext?.privileged !== true, `container ${c.name} not privileged`,
      `container ${c.name}: privileged: true; it needs three capabilities, not all of them`);
  }
  const c = (pod.containers ?? []).find((x) => x.name === CONTAINER);
  r.expect(d, c !== undefined, `a container named ${CONTAINER}`);
  if (!c) return;
  const at = `container ${CONTAINER}`;
  const sc = c.securityContext ?? {};
  const psc = pod.securityContext ?? {};
  r.expect(d, sc.allowPrivilegeEscalation === false, `${at}: allowPrivilegeEscalation: false`);
  r.expect(d, sc.readOnlyRootFilesystem === true, `${at}: readOnlyRootFilesystem: true`);
  r.expect(d, (sc.runAsUser ?? psc.runAsUser) === 0, `${at}: runAsUser 0`,
    `${at}: runAsUser is ${fmt(sc.runAsUser ?? psc.runAsUser)}: setns() into the host's namespaces needs root in the host's user namespace`);
  r.expect(d, (sc.seccompProfile ?? psc.seccompProfile)?.type === "RuntimeDefault",
    `${at}: seccompProfile RuntimeDefault`);
  const drop = sc.capabilities?.drop ?? [];
  r.expect(d, drop.includes("ALL"), `${at}: capabilities.drop [ALL]`,
    `${at}: capabilities.drop is ${fmt(sc.capabilities?.drop)}, not [ALL]`);
  const add = [...(sc.capabilities?.add ?? [])].sort();
  r.expect(d, JSON.stringify(add) === JSON.stringify(CAPABILITIES),
    `${at}: capabilities.add exactly ${CAPABILITIES.join(", ")}`,
    `${at}: capabilities.add is ${fmt(sc.capabilities?.add)}, must be exactly ${fmt(CAPABILITIES)} (spelled without CAP_)`);

  for (const p of c.ports ?? []) {
    if (p.hostPort !== undefined) {
      r.expect(d, p.hostPort === p.containerPort, `${at}: port ${p.name} hostPort = containerPort`,
        `${at}: port ${p.name}: hostPort ${p.hostPort} != containerPort ${p.containerPort} (refused with hostNetwork)`);
    }
  }
  for (const [probe, want] of [["livenessProbe", "/-/healthy"], ["readinessProbe", "/-/ready"]]) {
    const g = c[probe]?.httpGet;
    r.expect(d, g?.path === want, `${at}: ${probe} GET ${want}`,
      `${at}: ${probe} is ${fmt(g ? `GET ${g.path}` : c[probe])}, must be GET ${want}`);
    if (g) {
      r.expect(d, containerPortOf(c, g.port) !== undefined, `${at}: ${probe} port ${fmt(g.port)} is a container port`,
        `${at}: ${probe} port ${fmt(g.port)} is not a port of the container`);
    }
  }

  const mounts = c.volumeMounts ?? [];
  for (const m of mounts) {
    const v = volumes.get(m.name);
    if (!v) {
      r.fail(d, `${at}: volumeMount ${m.mountPath} names no volume "${m.name}"`);
      continue;
    }
    if (!v.hostPath) continue;
    r.expect(d, m.readOnly === true, `${at}: hostPath mount ${m.mountPath} readOnly`,
      `${at}: hostPath mount ${m.mountPath} (${v.hostPath.path}) is not readOnly`);
    r.expect(d, m.mountPropagation === "HostToContainer",
      `${at}: hostPath mount ${m.mountPath} mountPropagation HostToContainer`,
      `${at}: hostPath mount ${m.mountPath} has mountPropagation ${fmt(m.mountPropagation)}: without HostToContainer later mounts stay invisible and the host's unmounts do not reach the pod, which then pins deleted namespaces`);
  }

  // --config=FILE is a key of a mounted ConfigMap of this set.
  const arg = [...(c.command ?? []), ...(c.args ?? [])].find((a) => String(a).startsWith("--config="));
  r.expect(d, arg !== undefined, `${at}: --config=FILE given`);
  if (arg) {
    const file = arg.slice("--config=".length);
    const m = mounts.find((x) => volumes.get(x.name)?.configMap && path.posix.dirname(file) === path.posix.normalize(x.mountPath));
    const cmName = m && volumes.get(m.name).configMap.name;
    const cm = ctx.byKind("ConfigMap").find((x) => x.obj.metadata?.name === cmName);
    const key = path.posix.basename(file);
    r.expect(d, cm !== undefined && typeof cm.obj.data?.[key] === "string",
      `${at}: ${file} is key ${key} of ConfigMap ${cmName ?? "?"} in this set`,
      `${at}: ${file} is not a key of a ConfigMap of ${MANIFEST_DIR} mounted at ${path.posix.dirname(file)}`);
  }
  ctx.container = c;
  ctx.podLabels = podLabels;
  ctx.mounts = mounts.map((m) => ({ ...m, volume: volumes.get(m.name) }));
}

function checkService(d, ctx, r) {
  const spec = d.obj.spec ?? {};
  r.expect(d, spec.clusterIP === "None", "clusterIP: None (headless)");
  r.expect(d, subset(spec.selector, ctx.podLabels), "selector selects the DaemonSet's pods",
    `selector ${fmt(spec.selector)} does not select the DaemonSet's pods ${fmt(ctx.podLabels)}`);
  for (const p of spec.ports ?? []) {
    const target = p.targetPort ?? p.port;
    r.expect(d, ctx.container && containerPortOf(ctx.container, target) !== undefined,
      `port ${p.name}: targetPort ${fmt(target)} is a port of container ${CONTAINER}`,
      `port ${p.name}: targetPort ${fmt(target)} is not a port of container ${CONTAINER}`);
  }
}

function checkPodMonitor(d, ctx, r) {
  const spec = d.obj.spec ?? {};
  r.expect(d, subset(spec.selector?.matchLabels, ctx.podLabels), "selector selects the DaemonSet's pods",
    `selector.matchLabels ${fmt(spec.selector?.matchLabels)} does not select the DaemonSet's pods ${fmt(ctx.podLabels)}`);
  const eps = spec.podMetricsEndpoints ?? [];
  r.expect(d, eps.length > 0, "podMetricsEndpoints not empty");
  eps.forEach((ep, i) => {
    const at = `podMetricsEndpoints[${i}]`;
    r.expect(d, typeof ep.port === "string" && ctx.container && containerPortOf(ctx.container, ep.port) !== undefined,
      `${at}: port ${fmt(ep.port)} is a named port of container ${CONTAINER}`,
      `${at}: port ${fmt(ep.port)} is not a named port of container ${CONTAINER}`);
    const want = ctx.config?.web?.telemetry_path ?? "/metrics";
    r.expect(d, ep.path === want, `${at}: path ${want}`, `${at}: path is ${fmt(ep.path)}, the daemon serves ${want}`);
    const node = (ep.relabelings ?? []).some((rl) => rl.targetLabel === "node" &&
      JSON.stringify(rl.sourceLabels) === JSON.stringify(["__meta_kubernetes_pod_node_name"]) &&
      (rl.action ?? "replace").toLowerCase() === "replace");
    r.expect(d, node, `${at}: relabeling node <- __meta_kubernetes_pod_node_name`);
  });
}

function checkConfigMap(d, ctx, r, root) {
  const text = d.obj.data?.["ctcollectd.conf"];
  if (text === undefined) return;  // not the daemon's (the DaemonSet check says if it is missing)
  const doc = YAML.parseDocument(text, { uniqueKeys: true });
  r.expect(d, doc.errors.length === 0, "ctcollectd.conf parses as YAML",
    `ctcollectd.conf is not YAML: ${doc.errors.map((e) => oneLine(e.message)).join("; ")}`);
  if (doc.errors.length) return;
  const conf = doc.toJS();
  r.expect(d, isObj(conf), "ctcollectd.conf is a mapping");
  if (!isObj(conf)) return;
  ctx.config = conf;
  r.expect(d, conf.conntrack?.discover === true, "ctcollectd.conf: conntrack.discover true",
    `ctcollectd.conf: conntrack.discover is ${fmt(conf.conntrack?.discover)}, must be true (boolean)`);
  const detail = conf.conntrack?.netns_detail;
  r.expect(d, detail === undefined || detail === "summary" || detail === "full",
    "ctcollectd.conf: conntrack.netns_detail summary or full",
    `ctcollectd.conf: conntrack.netns_detail is ${fmt(detail)}, must be summary or full`);

  // The daemon refuses unknown keys at start: on every node at once.
  const sample = YAML.parse(readFileSync(path.join(root, SAMPLE_CONFIG), "utf8"));
  const known = new Set(keyPaths(sample));
  for (const k of keyPaths(conf)) {
    r.expect(d, known.has(k), `ctcollectd.conf: key ${k} is one ${SAMPLE_CONFIG} documents`,
      `ctcollectd.conf: unknown key ${k} (not in ${SAMPLE_CONFIG}): the daemon would exit 78`);
  }

  const c = ctx.container;
  if (c) {
    const ports = listenPorts(conf.web?.listen_address);
    const metrics = containerPortOf(c, "metrics");
    r.expect(d, metrics !== undefined && ports.includes(metrics.containerPort),
      `ctcollectd.conf: web.listen_address port is container port "metrics"`,
      `ctcollectd.conf: web.listen_address ${fmt(conf.web?.listen_address)} does not listen on the container's "metrics" port ${metrics?.containerPort}`);
    const sock = conf.control?.socket ?? "/run/ctcollectd/ctl.sock";
    const m = (ctx.mounts ?? []).find((x) => path.posix.dirname(sock) === path.posix.normalize(x.mountPath));
    r.expect(d, m?.volume?.emptyDir !== undefined && m.readOnly !== true,
      `ctcollectd.conf: control.socket ${sock} on a writable emptyDir (the root file system is read-only)`,
      `ctcollectd.conf: control.socket ${sock} is not on a writable emptyDir mount of container ${CONTAINER}`);
  }
}

// Every check, on parsed documents. Returns the Report.
export async function check(docs, root) {
  const r = new Report();
  for (const d of docs) {
    if (!isObj(d.obj)) {
      r.fail(d, "not a mapping");
      continue;
    }
    await checkSchema(d, r);
    r.expect(d, d.obj.metadata?.namespace === undefined, "no metadata.namespace (apply with -n)",
      `metadata.namespace is ${fmt(d.obj.metadata?.namespace)}: these manifests take theirs from kubectl apply -n`);
    r.expect(d, subset(LABELS, d.obj.metadata?.labels), `labelled ${fmt(LABELS)}`);
  }
  const ctx = { byKind: (k) => docs.filter((d) => isObj(d.obj) && d.obj.kind === k) };
  const kinds = { DaemonSet: 1, ConfigMap: 1, Service: 1, PodMonitor: 1 };
  for (const [kind, n] of Object.entries(kinds)) {
    const found = ctx.byKind(kind);
    if (found.length !== n) r.errors.push(`${MANIFEST_DIR}: ${found.length} ${kind} documents, expected ${n}`);
  }
  // The ConfigMap needs the container's ports and mounts, the PodMonitor
  // the config's telemetry path: DaemonSet first, PodMonitor last.
  for (const d of ctx.byKind("DaemonSet")) checkDaemonSet(d, ctx, r);
  for (const d of ctx.byKind("ConfigMap")) checkConfigMap(d, ctx, r, root);
  for (const d of ctx.byKind("Service")) checkService(d, ctx, r);
  for (const d of ctx.byKind("PodMonitor")) checkPodMonitor(d, ctx, r);
  return r;
}

// ------------------------------------------------------------- self-test

const pod = (docs) => docs.find((d) => d.obj.kind === "DaemonSet").obj.spec.template.spec;
const ctr = (docs) => pod(docs).containers.find((c) => c.name === CONTAINER);
const ofKind = (docs, k) => docs.find((d) => d.obj.kind === k).obj;
const hostMount = (docs) => {
  const hp = new Set(pod(docs).volumes.filter((v) => v.hostPath).map((v) => v.name));
  return ctr(docs).volumeMounts.find((m) => hp.has(m.name));
};
function editConfig(docs, from, to) {
  const cm = ofKind(docs, "ConfigMap");
  const text = cm.data["ctcollectd.conf"];
  if (!text.includes(from)) throw new Error(`self-test: ctcollectd.conf has no "${from}" to break`);
  cm.data["ctcollectd.conf"] = text.replace(from, to);
}

// [what is broken, how, a substring the rejecting error must have]
const BROKEN = [
  ["hostPID as a string", (ds) => { pod(ds).hostPID = "yes"; }, "hostPID must be boolean"],
  ["no hostPID", (ds) => { delete pod(ds).hostPID; }, "hostPID is absent"],
  ["an extra capability", (ds) => { ctr(ds).securityContext.capabilities.add.push("SYS_MODULE"); }, "capabilities.add is"],
  ["CAP_SYS_ADMIN (the API server refuses it with allowPrivilegeEscalation: false)",
    (ds) => { const a = ctr(ds).securityContext.capabilities.add; a[a.indexOf("SYS_ADMIN")] = "CAP_SYS_ADMIN"; },
    "capabilities.add is"],
  ["capabilities not dropped", (ds) => { ctr(ds).securityContext.capabilities.drop = []; }, "capabilities.drop is"],
  ["privileged", (ds) => { ctr(ds).securityContext.privileged = true; }, "privileged: true"],
  ["a writable hostPath mount", (ds) => { hostMount(ds).readOnly = false; }, "is not readOnly"],
  ["a hostPath mount without propagation", (ds) => { delete hostMount(ds).mountPropagation; }, "mountPropagation absent"],
  ["/run/containerd mounted whole", (ds) => { pod(ds).volumes.find((v) => v.hostPath).hostPath.path = "/var/run/containerd"; },
    "contains /run/containerd/containerd.sock"],
  ["liveness probe on /healthz", (ds) => { ctr(ds).livenessProbe.httpGet.path = "/healthz"; }, "must be GET /-/healthy"],
  ["readiness probe on a port the container lacks", (ds) => { ctr(ds).readinessProbe.httpGet.port = "http"; },
    "readinessProbe port \"http\" is not a port"],
  ["a misspelt field (hostPid)", (ds) => { pod(ds).hostPid = true; }, "hostPid: unknown field"],
  ["an unknown kind", (ds) => { ds.push({ file: "broken.yaml", n: 1, obj: { apiVersion: "apps/v1", kind: "DaemonSett", metadata: { name: "x" } } }); },
    "unknown apiVersion/kind apps/v1/DaemonSett"],
  ["a namespace in a manifest", (ds) => { ofKind(ds, "Service").metadata.namespace = "default"; }, "metadata.namespace is \"default\""],
  ["a Service selecting other pods", (ds) => { ofKind(ds, "Service").spec.selector = { app: "other" }; },
    "does not select the DaemonSet's pods"],
  ["a PodMonitor port the container lacks", (ds) => { ofKind(ds, "PodMonitor").spec.podMetricsEndpoints[0].port = "web"; },
    "port \"web\" is not a named port"],
  ["a misspelt PodMonitor field (intervall)", (ds) => { ofKind(ds, "PodMonitor").spec.podMetricsEndpoints[0].intervall = "30s"; },
    "podMetricsEndpoints[0].intervall: unknown field"],
  ["a PodMonitor interval Prometheus cannot parse", (ds) => { ofKind(ds, "PodMonitor").spec.podMetricsEndpoints[0].interval = "30 s"; },
    "interval must match pattern"],
  ["conntrack.discover false", (ds) => editConfig(ds, "discover: true", "discover: false"), "conntrack.discover is false"],
  ["ctcollectd.conf not YAML", (ds) => editConfig(ds, "conntrack:", "conntrack: ["), "ctcollectd.conf is not YAML"],
  ["an unknown config key", (ds) => editConfig(ds, "log:", "logs:"), "unknown key logs.level"],
  ["a listen port other than the container's", (ds) => editConfig(ds, "\":10034\"", "\":9100\""), "does not listen on the container's"],
];

async function selfTest(docs, root) {
  let failed = 0;
  const base = await check(docs, root);
  if (base.errors.length) {
    console.log("self-test: the manifests as they are must pass first:");
    for (const e of base.errors) console.log(`  ${e}`);
    return false;
  }
  console.log(`self-test: the manifests as they are: accepted (${base.checks.length} checks)`);
  for (const [what, breakIt, expect] of BROKEN) {
    const copy = structuredClone(docs);
    breakIt(copy);
    const r = await check(copy, root);
    const hit = r.errors.find((e) => e.includes(expect));
    if (hit) {
      console.log(`self-test: rejected ${what}: ${hit}`);
    } else {
      failed++;
      console.log(`SELF-TEST FAILED: ${what} was not rejected with "${expect}"; errors: ` +
        (r.errors.length ? r.errors.join(" | ") : "none"));
    }
  }
  // The YAML level: a key given twice (kubectl refuses it too).
  const dup = parseManifest("apiVersion: v1\nkind: ConfigMap\nkind: ConfigMap\n", "broken.yaml");
  if (dup.errors.some((e) => e.includes("unique"))) {
    console.log(`self-test: rejected a key given twice: ${dup.errors[0]}`);
  } else {
    failed++;
    console.log(`SELF-TEST FAILED: a key given twice was not rejected`);
  }
  console.log(`self-test: ${BROKEN.length + 1 - failed} of ${BROKEN.length + 1} broken copies rejected`);
  return failed === 0;
}

// ------------------------------------------------------------------ main

function oneLine(s) {
  return String(s).split("\n")[0];
}

function packageVersion(name) {
  const f = fileURLToPath(new URL(`./node_modules/${name}/package.json`, import.meta.url));
  return existsSync(f) ? JSON.parse(readFileSync(f, "utf8")).version : "?";
}

async function main(argv) {
  let root = fileURLToPath(new URL("../..", import.meta.url));
  let selfTestMode = false;
  for (const a of argv) {
    if (a.startsWith("--root=")) root = path.resolve(a.slice("--root=".length));
    else if (a === "--self-test") selfTestMode = true;
    else {
      console.error(`validate.mjs: unknown argument ${a}; usage: node validate.mjs [--root=REPO] [--self-test]`);
      return 2;
    }
  }
  const { docs, errors } = loadManifests(root);
  console.log(`schema: kubernetes-models ${packageVersion("kubernetes-models")}, ` +
    `@kubernetes-models/prometheus-operator ${packageVersion("@kubernetes-models/prometheus-operator")}, ` +
    `yaml ${packageVersion("yaml")}; node ${process.version}`);
  if (errors.length) {
    for (const e of errors) console.log(`ERROR ${e}`);
    return 1;
  }
  if (selfTestMode) return (await selfTest(docs, root)) ? 0 : 1;
  const r = await check(docs, root);
  for (const c of r.checks) console.log(`checked ${c}`);
  for (const e of r.errors) console.log(`ERROR ${e}`);
  const files = new Set(docs.map((d) => d.file)).size;
  console.log(`${files} files, ${docs.length} documents, ${r.checks.length} checks: ` +
    (r.errors.length ? `${r.errors.length} errors` : "all passed"));
  return r.errors.length ? 1 : 0;
}

process.exitCode = await main(process.argv.slice(2));
