{{- define "gpufleet.labels" -}}
app.kubernetes.io/managed-by: gpufleet
app.kubernetes.io/part-of: {{ .Values.cluster }}
{{- end -}}
