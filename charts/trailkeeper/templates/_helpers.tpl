{{/* Chart name, truncated to the 63 characters of a DNS label. */}}
{{- define "trailkeeper.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Release-wide name prefix, truncated so that the longest name, the Service "<fullname>-operator-metrics", stays within 63 characters.
*/}}
{{- define "trailkeeper.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 46 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 46 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 46 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "trailkeeper.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels on every object. */}}
{{- define "trailkeeper.labels" -}}
helm.sh/chart: {{ include "trailkeeper.chart" . }}
app.kubernetes.io/name: {{ include "trailkeeper.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: trailkeeper
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Selector labels of one component: call with (dict "ctx" $ "component" "api-server"). */}}
{{- define "trailkeeper.selectorLabels" -}}
app.kubernetes.io/name: {{ include "trailkeeper.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* All labels of one component's objects: call with (dict "ctx" $ "component" "api-server"). */}}
{{- define "trailkeeper.componentLabels" -}}
{{ include "trailkeeper.labels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "trailkeeper.apiServer.fullname" -}}
{{- printf "%s-api-server" (include "trailkeeper.fullname" .) }}
{{- end }}

{{- define "trailkeeper.operator.fullname" -}}
{{- printf "%s-operator" (include "trailkeeper.fullname" .) }}
{{- end }}

{{/* Image reference: call with (dict "ctx" $ "image" .Values.apiServer.image). A digest wins over a tag. */}}
{{- define "trailkeeper.image" -}}
{{- if .image.digest }}
{{- printf "%s@%s" .image.repository .image.digest }}
{{- else }}
{{- printf "%s:%s" .image.repository (default .ctx.Chart.AppVersion .image.tag) }}
{{- end }}
{{- end }}

{{/*
TRAILKEEPER_SHUTDOWN_TIMEOUT_MS: the value, else 5 s less than the grace period (half of it when that is 10 s or less),
so that the server finishes draining before the kubelet's SIGKILL.
*/}}
{{- define "trailkeeper.apiServer.shutdownTimeoutMs" -}}
{{- $v := .Values.apiServer }}
{{- $grace := int64 $v.terminationGracePeriodSeconds }}
{{- if not (kindIs "invalid" $v.shutdownTimeoutMs) }}
{{- int64 $v.shutdownTimeoutMs }}
{{- else if gt $grace 10 }}
{{- mul (sub $grace 5) 1000 }}
{{- else }}
{{- mul $grace 500 }}
{{- end }}
{{- end }}

{{- define "trailkeeper.apiServer.serviceAccountName" -}}
{{- if .Values.apiServer.serviceAccount.create }}
{{- default (include "trailkeeper.apiServer.fullname" .) .Values.apiServer.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.apiServer.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "trailkeeper.operator.serviceAccountName" -}}
{{- if .Values.operator.serviceAccount.create }}
{{- default (include "trailkeeper.operator.fullname" .) .Values.operator.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.operator.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Names of the Secrets the chart reads (it never creates them). */}}
{{- define "trailkeeper.databaseSecretName" -}}
{{- default (printf "%s-database" (include "trailkeeper.fullname" .)) .Values.database.secret.name }}
{{- end }}

{{- define "trailkeeper.adminTokenSecretName" -}}
{{- default (printf "%s-admin-token" (include "trailkeeper.fullname" .)) .Values.apiServer.adminTokenSecret.name }}
{{- end }}

{{- define "trailkeeper.signingKeySecretName" -}}
{{- default (printf "%s-signing-key" (include "trailkeeper.fullname" .)) .Values.apiServer.signingKeySecret.name }}
{{- end }}

{{- define "trailkeeper.leaseName" -}}
{{- default (include "trailkeeper.operator.fullname" .) .Values.operator.leaderElection.leaseName }}
{{- end }}

{{/* Pod-level security context shared by both components (restricted Pod Security Standard). */}}
{{- define "trailkeeper.podSecurityContext" -}}
runAsNonRoot: true
{{- with .Values.podSecurityContext.runAsUser }}
runAsUser: {{ . }}
{{- end }}
{{- with .Values.podSecurityContext.runAsGroup }}
runAsGroup: {{ . }}
{{- end }}
{{- with .Values.podSecurityContext.fsGroup }}
fsGroup: {{ . }}
{{- end }}
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "trailkeeper.containerSecurityContext" -}}
allowPrivilegeEscalation: false
privileged: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop:
    - ALL
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* Scheduling fields of one component: call with the component's values. */}}
{{- define "trailkeeper.scheduling" -}}
{{- with .priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- with .nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/*
topologySpreadConstraints of one component: the configured ones, or by default a soft spread over nodes.
Call with (dict "ctx" $ "component" "api-server" "values" .Values.apiServer).
*/}}
{{- define "trailkeeper.topologySpread" -}}
{{- if .values.topologySpreadConstraints }}
topologySpreadConstraints:
  {{- toYaml .values.topologySpreadConstraints | nindent 2 }}
{{- else }}
topologySpreadConstraints:
  - maxSkew: 1
    topologyKey: kubernetes.io/hostname
    whenUnsatisfiable: ScheduleAnyway
    labelSelector:
      matchLabels:
        {{- include "trailkeeper.selectorLabels" (dict "ctx" .ctx "component" .component) | nindent 8 }}
{{- end }}
{{- end }}

{{/* The operator's rules for custom resources, their status, Secrets and Events (cluster-wide or in WATCH_NAMESPACE). */}}
{{- define "trailkeeper.operator.namespacedRules" -}}
- apiGroups: ["trailkeeper.dev"]
  resources: ["logforwardingdestinations", "recordingstorages"]
  verbs: ["get", "list", "watch"]
- apiGroups: ["trailkeeper.dev"]
  resources: ["logforwardingdestinations/status", "recordingstorages/status"]
  verbs: ["update", "patch"]
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get", "list", "watch"]
- apiGroups: ["events.k8s.io"]
  resources: ["events"]
  verbs: ["create", "patch"]
{{- end }}

{{/* What the API server may do in a namespace to save configuration (apiServer.kubernetesAccess). */}}
{{- define "trailkeeper.apiServer.configRules" -}}
- apiGroups: ["trailkeeper.dev"]
  resources: ["logforwardingdestinations", "recordingstorages"]
  verbs: ["get", "list", "watch", "create", "update", "patch"]
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["create", "patch"]
{{- end }}
