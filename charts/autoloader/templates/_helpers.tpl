{{- define "autoloader.labels" -}}
app.kubernetes.io/name: autoloader
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end -}}

{{- define "autoloader.image" -}}
{{- $registry := .root.Values.imageRegistry -}}
{{- $tag := default .root.Chart.AppVersion .root.Values.imageTag -}}
{{- printf "%s%sautoloader/%s:%s" $registry (ternary "/" "" (ne $registry "")) .component $tag -}}
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
