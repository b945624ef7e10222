{{/*
The apps of the layout, as a YAML list: each with `name` (the SpinApp's and
its Deployment's), `key` (its entry under .Values.apps), `appId` (Dapr's)
and `components` (the spin.toml components it runs; empty: every one).

Dapr jobs call back only the app id that scheduled them, so every app that
schedules jobs runs `job-callback`: the APIs (the outbox's safety net of
their writes) and the event handlers (reminders, and the net of the
recurrence handler's writes). It is the one component in both apps of the
split layout (k8s/spinkube/README.md).
*/}}
{{- define "todo.apps" -}}
{{- if eq .Values.layout "single" }}
- name: {{ .Release.Name }}
  key: single
  appId: {{ .Values.apps.single.appId }}
  components: []
{{- else if eq .Values.layout "split" }}
- name: {{ .Release.Name }}-api
  key: api
  appId: {{ .Values.apps.api.appId }}
  components: [tasks-api, notifications-api, chat-api, mcp-api, accounts-api, web-ui, job-callback]
- name: {{ .Release.Name }}-events
  key: events
  appId: {{ .Values.apps.events.appId }}
  components: [recurrence-handler, reminder-scheduler, notifier, reminder-sweep, job-callback]
{{- else }}
{{- fail (printf "layout must be single or split, not %q" .Values.layout) }}
{{- end }}
{{- end }}

{{/* The Dapr app ids of every app of the layout, as a YAML list. */}}
{{- define "todo.allAppIds" -}}
{{- range (include "todo.apps" . | fromYamlArray) }}
- {{ .appId }}
{{- end }}
{{- end }}

{{/* The Dapr app id of the app that runs the event handlers. */}}
{{- define "todo.eventsAppId" -}}
{{- if eq .Values.layout "split" }}{{ .Values.apps.events.appId }}{{ else }}{{ .Values.apps.single.appId }}{{ end }}
{{- end }}

{{/* Labels on every resource. */}}
{{- define "todo.labels" -}}
app.kubernetes.io/name: todo-chatbot
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
{{- end }}

{{/* The image, pinned by digest. */}}
{{- define "todo.image" -}}
{{- $digest := required "image.digest is required: the sha256 digest the release printed" .Values.image.digest }}
{{- if not (regexMatch "^sha256:[0-9a-f]{64}$" $digest) }}
{{- fail (printf "image.digest must be sha256:<64 hex digits>, not %q" $digest) }}
{{- end }}
{{- printf "%s@%s" .Values.image.repository $digest }}
{{- end }}
