{{/* Names: <release>-zoneferry-<component>, shortened to the 63 characters a label allows. */}}
{{- define "zoneferry.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "zoneferry.webhook" -}}{{ include "zoneferry.fullname" . }}-webhook{{- end -}}
{{- define "zoneferry.runner" -}}{{ include "zoneferry.fullname" . }}-runner{{- end -}}
{{- define "zoneferry.redis" -}}{{ include "zoneferry.fullname" . }}-redis{{- end -}}

{{- define "zoneferry.labels" -}}
app.kubernetes.io/name: zoneferry
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "zoneferry.selector" -}}
app.kubernetes.io/name: zoneferry
app.kubernetes.io/instance: {{ .Root.Release.Name }}
app.kubernetes.io/component: {{ .Component }}
{{- end -}}

{{- define "zoneferry.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{/* The Kubernetes username of the runner: the only identity the migration guard lets through,
and one the webhooks are never sent. */}}
{{- define "zoneferry.runnerIdentity" -}}
{{- if .Values.webhook.runnerIdentity -}}
{{ .Values.webhook.runnerIdentity }}
{{- else -}}
system:serviceaccount:{{ .Release.Namespace }}:{{ include "zoneferry.runner" . }}
{{- end -}}
{{- end -}}

{{/* Environment both components read (core/config.ts), one value each. */}}
{{- define "zoneferry.commonEnv" -}}
- name: LOG_LEVEL
  value: {{ .Values.logLevel | quote }}
{{- if eq .Values.redis.mode "bundled" }}
- name: REDIS_URL
  value: {{ printf "redis://%s:6379/0" (include "zoneferry.redis" .) | quote }}
{{- else if .Values.redis.urlSecret.name }}
- name: REDIS_URL
  valueFrom:
    secretKeyRef: {name: {{ .Values.redis.urlSecret.name | quote }}, key: {{ .Values.redis.urlSecret.key | quote }}}
{{- else }}
- name: REDIS_URL
  value: {{ required "redis.url is required when redis.mode is external (or set redis.urlSecret.name)" .Values.redis.url | quote }}
{{- end }}
- name: ECS_REGION_ID
  value: {{ required "ecs.regionId is required: the region of the cluster's disks, e.g. cn-shanghai" .Values.ecs.regionId | quote }}
{{- with .Values.ecs.endpoint }}
- name: ECS_ENDPOINT
  value: {{ . | quote }}
{{- end }}
- name: ECS_PROTOCOL
  value: {{ .Values.ecs.protocol | quote }}
- name: ECS_RATE_LIMIT
  value: {{ .Values.ecs.rateLimit | quote }}
- name: ECS_CACHE_TTL
  value: {{ .Values.ecs.cacheTtl | quote }}
- name: ECS_CONNECT_TIMEOUT
  value: {{ .Values.ecs.connectTimeout | quote }}
- name: ECS_READ_TIMEOUT
  value: {{ .Values.ecs.readTimeout | quote }}
{{- if eq .Values.ecs.credentials.mode "secret" }}
- name: ALIBABA_CLOUD_ACCESS_KEY_ID
  valueFrom:
    secretKeyRef: {name: {{ required "ecs.credentials.secret.name is required when credentials.mode is secret" .Values.ecs.credentials.secret.name | quote }}, key: {{ .Values.ecs.credentials.secret.accessKeyIdKey | quote }}}
- name: ALIBABA_CLOUD_ACCESS_KEY_SECRET
  valueFrom:
    secretKeyRef: {name: {{ .Values.ecs.credentials.secret.name | quote }}, key: {{ .Values.ecs.credentials.secret.accessKeySecretKey | quote }}}
{{- else if .Values.ecs.credentials.rrsa.mountToken }}
- name: ALIBABA_CLOUD_ROLE_ARN
  value: {{ required "ecs.credentials.rrsa.roleArn is required when credentials.mode is rrsa" .Values.ecs.credentials.rrsa.roleArn | quote }}
- name: ALIBABA_CLOUD_OIDC_PROVIDER_ARN
  value: {{ required "ecs.credentials.rrsa.oidcProviderArn is required when credentials.mode is rrsa" .Values.ecs.credentials.rrsa.oidcProviderArn | quote }}
- name: ALIBABA_CLOUD_OIDC_TOKEN_FILE
  value: /var/run/secrets/ack.alibabacloud.com/rrsa-tokens/token
{{- end }}
{{- end -}}

{{/* RRSA: the projected service account token the credentials chain exchanges for the role. */}}
{{- define "zoneferry.rrsaVolume" -}}
{{- if and (eq .Values.ecs.credentials.mode "rrsa") .Values.ecs.credentials.rrsa.mountToken }}
- name: rrsa-oidc-token
  projected:
    sources:
      - serviceAccountToken:
          path: token
          audience: sts.aliyuncs.com
          expirationSeconds: 3600
{{- end }}
{{- end -}}

{{- define "zoneferry.rrsaMount" -}}
{{- if and (eq .Values.ecs.credentials.mode "rrsa") .Values.ecs.credentials.rrsa.mountToken }}
- name: rrsa-oidc-token
  mountPath: /var/run/secrets/ack.alibabacloud.com/rrsa-tokens
  readOnly: true
{{- end }}
{{- end -}}

{{/* Non-root 65532, read-only root filesystem, no capabilities, no privilege escalation. */}}
{{- define "zoneferry.podSecurity" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
fsGroup: 65532
seccompProfile: {type: RuntimeDefault}
{{- end -}}

{{- define "zoneferry.containerSecurity" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities: {drop: [ALL]}
{{- end -}}

{{/* The caBundle (secret mode) or the cert-manager annotation (certManager mode) of both webhook configurations. */}}
{{- define "zoneferry.caAnnotation" -}}
{{- if eq .Values.webhook.certificates.mode "certManager" }}
annotations:
  cert-manager.io/inject-ca-from: {{ printf "%s/%s" .Release.Namespace (include "zoneferry.webhook" .) }}
{{- end }}
{{- end -}}

{{- define "zoneferry.clientConfig" -}}
clientConfig:
  service:
    name: {{ include "zoneferry.webhook" .Root }}
    namespace: {{ .Root.Release.Namespace }}
    path: {{ .Path }}
    port: 443
  {{- if eq .Root.Values.webhook.certificates.mode "secret" }}
  caBundle: {{ required "webhook.certificates.secret.caBundle is required in secret mode (base64 of the CA's PEM)" .Root.Values.webhook.certificates.secret.caBundle }}
  {{- end }}
{{- end -}}

{{/* The namespaces zoneferry acts in: the user's selector (webhook.namespaceSelector), ANDed with
the exclusion of kube-system and the release namespace, which is always on. */}}
{{- define "zoneferry.namespaceSelector" -}}
namespaceSelector:
  {{- with .Values.webhook.namespaceSelector.matchLabels }}
  matchLabels:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  matchExpressions:
    - key: kubernetes.io/metadata.name
      operator: NotIn
      values: ["kube-system", {{ .Release.Namespace | quote }}]
    {{- with .Values.webhook.namespaceSelector.matchExpressions }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
{{- end -}}

{{/* The runner's writes never reach a webhook or the scale guard: an outage of the webhook can
never stop a migration half-way (docs/webhook-scope.md). */}}
{{- define "zoneferry.notTheRunner" -}}
- name: not-the-runner
  expression: {{ printf "request.userInfo.username != '%s'" (include "zoneferry.runnerIdentity" .) | quote }}
{{- end -}}

{{/* What both webhook configurations are sent: writes to StatefulSets (never their scale
subresource, which the scale guard policy checks in the API server), outside kube-system and the
release namespace, by anyone but the runner, that change a zoneferry.io/ annotation (a new request,
or a change the guard may refuse) or touch a StatefulSet a migration holds. A write to any other
StatefulSet never waits on the webhook, even an annotated one whose migration has ended. */}}
{{- define "zoneferry.webhookScope" -}}
rules:
  - apiGroups: ["apps"]
    apiVersions: ["v1"]
    operations: ["CREATE", "UPDATE"]
    resources: ["statefulsets"]
    scope: Namespaced
matchPolicy: Equivalent
{{ include "zoneferry.namespaceSelector" . }}
matchConditions:
  {{- include "zoneferry.notTheRunner" . | nindent 2 }}
  - name: zoneferry-request-changed-or-held
    expression: >-
      (has(object.metadata.annotations) && object.metadata.annotations.exists(k, k.startsWith('zoneferry.io/') &&
      (oldObject == null || !has(oldObject.metadata.annotations) || !(k in oldObject.metadata.annotations) ||
      oldObject.metadata.annotations[k] != object.metadata.annotations[k]))) ||
      (oldObject != null && has(oldObject.metadata.annotations) && oldObject.metadata.annotations.exists(k, k.startsWith('zoneferry.io/') &&
      (!has(object.metadata.annotations) || !(k in object.metadata.annotations)))) ||
      (oldObject != null && has(oldObject.metadata.annotations) && 'zoneferry.io/status' in oldObject.metadata.annotations &&
      oldObject.metadata.annotations['zoneferry.io/status'] in ['Pending', 'Running', 'RollingBack'])
sideEffects: NoneOnDryRun
admissionReviewVersions: ["v1"]
timeoutSeconds: {{ .Values.webhook.timeoutSeconds }}
{{- end -}}
