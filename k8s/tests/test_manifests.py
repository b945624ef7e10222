"""Checks of the deployment files, run by k8s/check (and so by scripts/test).

Every manifest the chart renders (both layouts, both values files) and every
raw manifest under k8s/spinkube/ is validated strictly: Kubernetes' own kinds
against the Kubernetes schemas (kubernetes-validate), SpinKube's and Dapr's
against their CRDs' schemas ($TODO_CRDS, ../shared/schemas/crds), with every
field a schema does not name refused. Then the files are checked against
spin.toml: every component runs in each layout, every handler route is
reached, every Dapr component a component calls is there for it, every
required variable has a value, and no secret value is committed.

    $TODO_RENDERED: a folder of rendered manifests, one file per case
    ({values}-{layout}.yaml), written by k8s/check.
"""

import copy
import glob
import os
import re
import tomllib
import unittest
from pathlib import Path

import jsonschema
import kubernetes_validate
import yaml

ROOT = Path(__file__).resolve().parents[2]
SPINKUBE = ROOT / "k8s" / "spinkube"
CRDS = Path(os.environ.get("TODO_CRDS", ROOT.parent / "shared" / "schemas" / "crds"))
RENDERED = Path(os.environ.get("TODO_RENDERED", ""))
KUBERNETES_VERSION = "1.34.0"

# The components that schedule Dapr jobs: writers of tasks (the outbox's
# safety net, ADR 8), the reminders' scheduler and sweep (ADR 10), and the
# webhook deliveries' retries (the notifier, the job callback). A job calls
# back only the app that scheduled it, so each app running one of these runs
# the job callback too.
JOB_SCHEDULERS = {
    "tasks-api", "chat-api", "mcp-api", "recurrence-handler",
    "reminder-scheduler", "reminder-sweep", "notifier", "job-callback",
}
JOB_CALLBACK = "job-callback"
# Metadata of Dapr components whose values are secrets.
SECRET_METADATA = re.compile(r"(password|connectionstring|token|secret|key)$", re.I)


def load_all(path):
    with open(path) as file:
        return [doc for doc in yaml.safe_load_all(file) if doc]


def spin_manifest():
    with open(ROOT / "spin.toml", "rb") as file:
        return tomllib.load(file)


def routes_by_component(manifest):
    routes = {}
    for trigger in manifest["trigger"]["http"]:
        routes.setdefault(trigger["component"], []).append(trigger["route"])
    return routes


def strict(schema):
    """The CRD schema with every object closed to fields it does not name."""
    schema = copy.deepcopy(schema)

    def close(node):
        if not isinstance(node, dict):
            return
        if (
            node.get("type") == "object"
            and "properties" in node
            and "additionalProperties" not in node
            and not node.get("x-kubernetes-preserve-unknown-fields")
        ):
            node["additionalProperties"] = False
        for key in ("properties", "patternProperties"):
            for child in node.get(key, {}).values():
                close(child)
        for key in ("items", "additionalProperties", "not"):
            close(node.get(key))
        for key in ("allOf", "anyOf", "oneOf"):
            for child in node.get(key, []):
                close(child)

    close(schema)
    # What a manifest may say of itself; the API server fills in the rest.
    schema["properties"]["metadata"] = {
        "type": "object",
        "required": ["name"],
        "additionalProperties": False,
        "properties": {
            "name": {"type": "string", "pattern": "^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$"},
            "namespace": {"type": "string"},
            "labels": {"type": "object", "additionalProperties": {"type": "string"}},
            "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
        },
    }
    return schema


def crd_schemas():
    """{(apiVersion, kind): strict JSON schema} of every CRD in $TODO_CRDS."""
    schemas = {}
    for path in sorted(glob.glob(str(CRDS / "*.yaml"))):
        for crd in load_all(path):
            group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
            for version in crd["spec"]["versions"]:
                if version.get("served", True):
                    schema = version["schema"]["openAPIV3Schema"]
                    schemas[(f"{group}/{version['name']}", kind)] = strict(schema)
    return schemas


def validate(doc, schemas):
    """Raises when `doc` is not valid, strictly, for its kind."""
    key = (doc.get("apiVersion"), doc.get("kind"))
    if key in schemas:
        jsonschema.validate(doc, schemas[key])
    else:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


class Case:
    """The manifests of one rendering (or of one raw file)."""

    def __init__(self, name, docs):
        self.name, self.docs = name, docs

    def of_kind(self, kind):
        return [doc for doc in self.docs if doc["kind"] == kind]

    def apps(self):
        """[(app id, SpinApp, its components)]."""
        everything = set(spin_manifest()["component"])
        return [
            (
                app["spec"]["podAnnotations"]["dapr.io/app-id"],
                app,
                set(app["spec"].get("components") or everything),
            )
            for app in self.of_kind("SpinApp")
        ]

    def app_ids_running(self, component):
        return {app_id for app_id, _, components in self.apps() if component in components}

    def dapr_component(self, name):
        found = [doc for doc in self.of_kind("Component") if doc["metadata"]["name"] == name]
        return found[0] if len(found) == 1 else None


def cases():
    found = []
    for path in sorted(RENDERED.glob("*.yaml")) if RENDERED.name else []:
        found.append(Case(f"helm {path.stem}", load_all(path)))
    for path in sorted(SPINKUBE.glob("*.yaml")):
        found.append(Case(f"k8s/spinkube/{path.name}", load_all(path)))
    return found


def secret_templates():
    """{secret name: {keys}} of the templates in k8s/spinkube/secrets/."""
    templates = {}
    for path in sorted((SPINKUBE / "secrets").glob("*.yaml")):
        for doc in load_all(path):
            templates[doc["metadata"]["name"]] = doc
    return templates


class Manifests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.cases = cases()
        cls.manifest = spin_manifest()
        if not RENDERED.name or not list(RENDERED.glob("*.yaml")):
            raise unittest.SkipTest("TODO_RENDERED names no rendered manifests: run k8s/check")

    def test_every_case_is_there(self):
        names = {case.name for case in self.cases}
        for values in ("minikube", "doks"):
            for layout in ("single", "split"):
                self.assertIn(f"helm {values}-{layout}", names)
        self.assertIn("k8s/spinkube/single.yaml", names)
        self.assertIn("k8s/spinkube/split.yaml", names)

    def test_every_manifest_is_valid_and_names_no_unknown_field(self):
        self.assertTrue(CRDS.is_dir(), f"no CRD schemas in {CRDS}: set TODO_CRDS")
        schemas = crd_schemas()
        for kind in ("SpinApp", "SpinAppExecutor", "Component", "Subscription",
                     "Configuration", "Resiliency"):
            self.assertIn(kind, {k for _, k in schemas}, f"no CRD of {kind} in {CRDS}")
        docs = [(case.name, doc) for case in self.cases for doc in case.docs]
        docs += [(path.name, doc) for path in sorted((SPINKUBE / "secrets").glob("*.yaml"))
                 for doc in load_all(path)]
        for name, doc in docs:
            with self.subTest(case=name, kind=doc.get("kind"), name=doc["metadata"]["name"]):
                validate(doc, schemas)

    def test_strict_validation_refuses_an_unknown_field(self):
        schemas = crd_schemas()
        app = copy.deepcopy(self.cases[0].of_kind("SpinApp")[0])
        validate(app, schemas)
        app["spec"]["replicaCount"] = 2
        with self.assertRaises(jsonschema.ValidationError):
            validate(app, schemas)
        component = copy.deepcopy(self.cases[0].of_kind("Component")[0])
        component["spec"]["metadta"] = []
        with self.assertRaises(jsonschema.ValidationError):
            validate(component, schemas)
        secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
                  "strngData": {"a": ""}}
        with self.assertRaises(kubernetes_validate.ValidationError):
            validate(secret, schemas)

    def test_every_component_runs_once_in_each_layout(self):
        for case in self.cases:
            apps = case.apps()
            self.assertTrue(apps, case.name)
            for component in self.manifest["component"]:
                with self.subTest(case=case.name, component=component):
                    running = case.app_ids_running(component)
                    if component == JOB_CALLBACK:
                        schedulers = {app_id for app_id, _, components in apps
                                      if components & JOB_SCHEDULERS - {JOB_CALLBACK}}
                        self.assertEqual(running, schedulers,
                                         "the job callback runs in every app that schedules jobs")
                    else:
                        self.assertEqual(len(running), 1, f"{component} runs in {running}")
            for _, app, _ in apps:
                unknown = set(app["spec"].get("components") or []) - set(self.manifest["component"])
                self.assertFalse(unknown, f"{case.name}: not in spin.toml: {unknown}")

    def test_every_handler_route_is_reached_in_the_app_that_runs_it(self):
        for case in self.cases:
            subscriptions = {doc["spec"]["routes"]["default"]: doc for doc in case.of_kind("Subscription")}
            bindings = {
                meta["value"]: doc
                for doc in case.of_kind("Component") if doc["spec"]["type"].startswith("bindings.")
                for meta in doc["spec"]["metadata"] if meta["name"] == "route"
            }
            for component, routes in routes_by_component(self.manifest).items():
                runs_in = case.app_ids_running(component)
                for route in routes:
                    with self.subTest(case=case.name, route=route):
                        if route.startswith("/events/"):
                            subscription = subscriptions.get(route)
                            self.assertIsNotNone(subscription, "no Subscription delivers here")
                            self.assertEqual(set(subscription["scopes"]), runs_in)
                            pubsub = case.dapr_component(subscription["spec"]["pubsubname"])
                            self.assertIsNotNone(pubsub, "its pub/sub component is missing")
                            self.assertTrue(runs_in <= set(pubsub["scopes"]))
                        elif route.startswith("/cron/"):
                            binding = bindings.get(route)
                            self.assertIsNotNone(binding, "no binding calls this route")
                            self.assertEqual(set(binding["scopes"]), runs_in)
                        elif route.startswith("/job/"):
                            self.assertEqual(component, JOB_CALLBACK)
            for route in list(subscriptions) + list(bindings):
                self.assertIn(route, {r for rs in routes_by_component(self.manifest).values() for r in rs},
                              f"{case.name}: {route} is no route of spin.toml")

    def test_each_consumer_has_a_consumer_group_of_its_own(self):
        for case in self.cases:
            groups = {}
            for doc in case.of_kind("Subscription"):
                pubsub = case.dapr_component(doc["spec"]["pubsubname"])
                group = {m["name"]: m.get("value") for m in pubsub["spec"]["metadata"]}["consumerGroup"]
                groups.setdefault((group, doc["spec"]["topic"]), []).append(doc["metadata"]["name"])
            for key, names in groups.items():
                self.assertEqual(len(names), 1, f"{case.name}: {names} share consumer group {key}")

    def test_every_dapr_component_a_component_calls_is_there_for_its_app(self):
        defaults = {name: spec.get("default") for name, spec in self.manifest["variables"].items()}
        for case in self.cases:
            for app_id, app, components in case.apps():
                values = dict(defaults)
                values.update({v["name"]: v["value"] for v in app["spec"].get("variables", []) if "value" in v})
                needed = {values[name] for name in ("state_store", "reminder_pubsub", "event_pubsub", "repeat_pubsub", "reminder_change_pubsub")}
                if components & {"reminder-sweep"}:
                    needed.add("reminder-sweep")
                for name in sorted(needed):
                    with self.subTest(case=case.name, app=app_id, dapr_component=name):
                        component = case.dapr_component(name)
                        self.assertIsNotNone(component, "not defined")
                        self.assertIn(app_id, component.get("scopes", []), "not scoped to the app")
                        store = component.get("auth", {}).get("secretStore")
                        if store:
                            self.assertIsNotNone(case.dapr_component(store), f"no secret store {store}")
                            self.assertIn(app_id, case.dapr_component(store).get("scopes", []))
            for kind in ("Component", "Subscription", "Resiliency"):
                for doc in case.of_kind(kind):
                    with self.subTest(case=case.name, kind=kind, name=doc["metadata"]["name"]):
                        scopes = doc.get("scopes")
                        self.assertTrue(scopes, "scoped to no app: every app would load it")
                        self.assertTrue(set(scopes) <= {app_id for app_id, _, _ in case.apps()})
            for app_id, app, _ in case.apps():
                config = app["spec"]["podAnnotations"]["dapr.io/config"]
                self.assertIn(config, {d["metadata"]["name"] for d in case.of_kind("Configuration")})

    def test_every_required_variable_has_a_value_and_secrets_come_from_secrets(self):
        declared = self.manifest["variables"]
        templates = secret_templates()
        for case in self.cases:
            for app_id, app, _ in case.apps():
                given = {v["name"]: v for v in app["spec"].get("variables", [])}
                for name, spec in declared.items():
                    with self.subTest(case=case.name, app=app_id, variable=name):
                        if spec.get("required"):
                            self.assertIn(name, given, "required, and given no value")
                        if spec.get("secret") and name in given:
                            ref = given[name].get("valueFrom", {}).get("secretKeyRef")
                            self.assertIsNotNone(ref, "a secret given as a plain value")
                            self.assertIn(ref["key"], templates.get(ref["name"], {}).get("stringData", {}),
                                          f"no template of secret {ref['name']} key {ref['key']}")
                for name in given:
                    self.assertIn(name, declared, f"{case.name}: {name} is no variable of spin.toml")
                annotations = app["spec"]["podAnnotations"]
                for annotation in ("dapr.io/api-token-secret", "dapr.io/app-token-secret"):
                    secret = annotations[annotation]
                    self.assertIn("token", templates.get(secret, {}).get("stringData", {}),
                                  f"{case.name}: no template of {secret} with key token")

    def test_no_secret_value_is_committed(self):
        templates = secret_templates()
        self.assertTrue(templates)
        for name, doc in templates.items():
            self.assertEqual(doc["kind"], "Secret")
            self.assertNotIn("data", doc, f"{name}: only empty stringData in a template")
            for key, value in doc["stringData"].items():
                self.assertEqual(value, "", f"secret {name} key {key} holds a value")
        for case in self.cases:
            for doc in case.docs:
                self.assertNotEqual(doc["kind"], "Secret", f"{case.name}: the chart renders no Secret")
            for doc in case.of_kind("Component"):
                for meta in doc["spec"]["metadata"]:
                    if SECRET_METADATA.search(meta["name"]):
                        with self.subTest(case=case.name, component=doc["metadata"]["name"], field=meta["name"]):
                            self.assertNotIn("value", meta, "a secret as a plain value")
                            ref = meta["secretKeyRef"]
                            self.assertIn(ref["key"], templates.get(ref["name"], {}).get("stringData", {}),
                                          f"no template of secret {ref['name']} key {ref['key']}")

    def test_the_public_entrance_reaches_the_app_with_the_web_app_and_the_apis(self):
        for case in self.cases:
            apps = {app["metadata"]["name"]: components for _, app, components in case.apps()}
            for ingress in case.of_kind("Ingress"):
                for rule in ingress["spec"]["rules"]:
                    for path in rule["http"]["paths"]:
                        backend = path["backend"]["service"]
                        self.assertEqual(backend["port"]["number"], 80, case.name)
                        self.assertIn(backend["name"], apps, f"{case.name}: no SpinApp {backend['name']}")
                        served = apps[backend["name"]]
                        self.assertTrue({"web-ui", "tasks-api", "accounts-api", "chat-api"} <= served)

    def test_the_image_is_pinned_by_digest(self):
        for case in self.cases:
            for _, app, _ in case.apps():
                self.assertRegex(app["spec"]["image"], r"@sha256:[0-9a-f]{64}$", case.name)


if __name__ == "__main__":
    unittest.main(verbosity=2)
