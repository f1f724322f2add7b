{{- define "autoloader.labels" -}}
app.kubernetes.io/name: autoloader
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "autoloader.image" -}}
{{- $registry := .root.Values.imageRegistry -}}
{{- $tag := default .root.Chart.AppVersion .root.Values.imageTag -}}
{{- printf "%s%sautoloader/%s:%s" $registry (ternary "/" "" (ne $registry "")) .component $tag -}}
{{- end -}}

{{- /* The ConfigMap of settings every process reads (see configmap.yaml). */ -}}
{{- define "autoloader.configName" -}}
{{ .Release.Name }}-autoloader
{{- end -}}

{{- /* The Prefect API: the external URL when given, else the in-chart server. */ -}}
{{- define "autoloader.prefectApiUrl" -}}
{{- if .Values.prefect.apiUrl -}}
{{ .Values.prefect.apiUrl }}
{{- else if .Values.prefect.server.enabled -}}
http://{{ .Release.Name }}-prefect:{{ .Values.prefect.server.port }}/api
{{- else -}}
{{ fail "prefect.apiUrl must name an external Prefect API when prefect.server.enabled is false" }}
{{- end -}}
{{- end -}}

{{- define "autoloader.databaseEnv" -}}
- name: AUTOLOADER_ENVIRONMENT
  value: production
- name: AUTOLOADER_DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ .Values.database.existingSecret }}
      key: {{ .Values.database.urlKey }}
{{- end -}}

{{- /* Settings and secrets of the api and workers: the ConfigMap, the database URL and, when
given, the clusters with their tokens, all by reference. Called with the root context, or
with a dict of its Values, Release and `credentials: true` for the workers' cloud keys. */ -}}
{{- define "autoloader.processEnv" -}}
envFrom:
  - configMapRef:
      name: {{ include "autoloader.configName" . }}
  {{- if .credentials }}
  {{- range .Values.credentials.envSecrets }}
  - secretRef:
      name: {{ . }}
  {{- end }}
  {{- end }}
env:
  {{- include "autoloader.databaseEnv" . | nindent 2 }}
  {{- include "autoloader.prefectAuthEnv" (dict "Values" .Values "name" "PREFECT_API_AUTH_STRING") | nindent 2 }}
  {{- if .Values.spark.clustersSecret }}
  - name: AUTOLOADER_SPARK_CLUSTERS
    valueFrom:
      secretKeyRef:
        name: {{ .Values.spark.clustersSecret }}
        key: {{ .Values.spark.clustersKey }}
  {{- end }}
{{- end -}}

{{- define "autoloader.podSecurity" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "autoloader.containerSecurity" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: ["ALL"]
{{- end -}}

{{- /* Callers render it only when imagePullSecrets is not empty. */ -}}
{{- define "autoloader.imagePullSecrets" -}}
imagePullSecrets:
  {{- range .Values.imagePullSecrets }}
  - name: {{ . }}
  {{- end }}
{{- end -}}


{{- /* Prefect's basic auth from its Secret: PREFECT_API_AUTH_STRING for clients,
PREFECT_SERVER_API_AUTH_STRING for the server. Renders nothing when auth is off. */ -}}
{{- define "autoloader.prefectAuthEnv" -}}
{{- if .Values.prefect.auth.enabled }}
- name: {{ .name }}
  valueFrom:
    secretKeyRef:
      name: {{ .Values.prefect.auth.existingSecret }}
      key: {{ .Values.prefect.auth.key }}
{{- end }}
{{- end -}}
