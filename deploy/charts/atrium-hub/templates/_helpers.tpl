{{/* Cluster-scoped RBAC names carry the namespace: releases in several namespaces must not collide. */}}
{{- define "atrium-hub.clusterRoleName" -}}
{{- printf "atrium-hub:%s:%s" .Release.Namespace (include "atrium-hub.fullname" .) }}
{{- end }}

{{/* Chart name, overridable. */}}
{{- define "atrium-hub.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Object names: <release>-<chart> unless the release name already contains the chart name. */}}
{{- define "atrium-hub.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}


{{- define "atrium-hub.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "atrium-hub.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: atrium
{{- end }}

{{- define "atrium-hub.selectorLabels" -}}
app.kubernetes.io/name: {{ include "atrium-hub.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "atrium-hub.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "atrium-hub.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The Secret holding the hub kubeconfig: an existing one, or the one this chart creates. */}}
{{- define "atrium-hub.hubSecretName" -}}
{{- if .Values.hubKubeconfig.existingSecret }}
{{- .Values.hubKubeconfig.existingSecret }}
{{- else if .Values.hubKubeconfig.kubeconfig }}
{{- printf "%s-hub-kubeconfig" (include "atrium-hub.fullname" .) }}
{{- else }}
{{- fail "set hubKubeconfig.existingSecret (a Secret with the hub kubeconfig) or hubKubeconfig.kubeconfig" }}
{{- end }}
{{- end }}
