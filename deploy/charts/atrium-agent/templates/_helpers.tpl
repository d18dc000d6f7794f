{{/* Chart name, overridable. */}}
{{- define "atrium-agent.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Object names: <release>-<chart> unless the release name already contains the chart name. */}}
{{- define "atrium-agent.fullname" -}}
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

{{/* Cluster-scoped RBAC names carry the namespace: releases in several namespaces must not collide. */}}
{{- define "atrium-agent.clusterRoleName" -}}
{{- printf "atrium-agent:%s:%s" .Release.Namespace (include "atrium-agent.fullname" .) }}
{{- end }}

{{- define "atrium-agent.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "atrium-agent.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: atrium
atrium.dev/compute-cluster: {{ .Values.clusterName | quote }}
{{- end }}

{{- define "atrium-agent.selectorLabels" -}}
app.kubernetes.io/name: {{ include "atrium-agent.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "atrium-agent.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "atrium-agent.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The Secret holding the hub kubeconfig: an existing one, or the one this chart creates. */}}
{{- define "atrium-agent.hubSecretName" -}}
{{- if .Values.hubKubeconfig.existingSecret }}
{{- .Values.hubKubeconfig.existingSecret }}
{{- else if .Values.hubKubeconfig.kubeconfig }}
{{- printf "%s-hub-kubeconfig" (include "atrium-agent.fullname" .) }}
{{- else }}
{{- fail "set hubKubeconfig.existingSecret (a Secret with the hub kubeconfig) or hubKubeconfig.kubeconfig" }}
{{- end }}
{{- end }}

{{/* The cluster name is required and must be a DNS label: it names the ComputeCluster and a finalizer. */}}
{{- define "atrium-agent.clusterName" -}}
{{- $name := required "clusterName is required: this compute cluster's ComputeCluster name" .Values.clusterName }}
{{- if not (regexMatch "^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$" $name) }}
{{- fail (printf "clusterName %q must be a DNS label (lowercase letters, digits and '-', at most 63)" $name) }}
{{- end }}
{{- $name }}
{{- end }}

{{/* A map as the name=value,... of an atrium-agent flag, keys sorted. */}}
{{- define "atrium-agent.pairs" -}}
{{- $pairs := list }}
{{- range $k, $v := . }}
{{- $pairs = append $pairs (printf "%s=%v" $k $v) }}
{{- end }}
{{- join "," $pairs }}
{{- end }}

{{/* The Pod Security level: restricted or baseline. */}}
{{- define "atrium-agent.podSecurityLevel" -}}
{{- $level := .Values.podSecurity.level }}
{{- if not (has $level (list "restricted" "baseline")) }}
{{- fail (printf "podSecurity.level %q must be restricted or baseline" $level) }}
{{- end }}
{{- $level }}
{{- end }}
