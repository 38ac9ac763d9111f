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

{{/* An image reference (dict Root Image DefaultTag): global.imageRegistry wins over the image's own
registry, so an umbrella chart moves every image to its mirror with one value; a digest wins over
the tag, as a tag can be moved to another image and a digest cannot. */}}
{{- define "zoneferry.imageRef" -}}
{{- $registry := (.Root.Values.global).imageRegistry | default .Image.registry -}}
{{- $path := ternary (printf "%s/%s" $registry .Image.repository) .Image.repository (ne $registry "") -}}
{{- if .Image.digest -}}
{{ $path }}@{{ .Image.digest }}
{{- else -}}
{{ $path }}:{{ .Image.tag | default .DefaultTag }}
{{- end -}}
{{- end -}}

{{- define "zoneferry.image" -}}
{{ include "zoneferry.imageRef" (dict "Root" . "Image" .Values.image "DefaultTag" .Chart.AppVersion) }}
{{- end -}}

{{/* The pod template's metadata of a component (dict Root Component): the user's labels first, the
chart's after them, so a chart label always wins (the schema refuses the selector's keys anyway). */}}
{{- define "zoneferry.podMetadata" -}}
{{- $values := index .Root.Values .Component }}
labels:
  {{- with $values.podLabels }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
  {{- include "zoneferry.labels" .Root | nindent 2 }}
  app.kubernetes.io/component: {{ .Component }}
{{- with $values.podAnnotations }}
annotations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* Where a component's pods may run (dict Root Component), each field only when set. */}}
{{- define "zoneferry.scheduling" -}}
{{- $values := index .Root.Values .Component }}
{{- with $values.priorityClassName }}
priorityClassName: {{ . | quote }}
{{- end }}
{{- with $values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* The user's extra variables of a component (dict Root Component), after the chart's: the schema
refuses any name the chart sets or the components' configuration reads. */}}
{{- define "zoneferry.extraEnv" -}}
{{- with (index .Root.Values .Component).extraEnv }}
{{- toYaml . }}
{{- end }}
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

{{/* Values of earlier charts that no longer exist, each with what replaces it: a renamed value must
never quietly fall back to a default (here: to one cloud identity shared by both components). */}}
{{- define "zoneferry.removedValues" -}}
{{- if .Values.ecs.credentials.rrsa.roleArn }}
{{- fail "ecs.credentials.rrsa.roleArn was split per component: set ecs.credentials.runner.rrsa.roleArn and ecs.credentials.webhook.rrsa.roleArn, two roles with their own RAM policies (docs/security.md)" }}
{{- end }}
{{- with .Values.ecs.credentials.secret }}
{{- if .name }}
{{- fail "ecs.credentials.secret was split per component: set ecs.credentials.runner.secret.name and ecs.credentials.webhook.secret.name, two RAM users with their own policies (docs/security.md)" }}
{{- end }}
{{- end }}
{{- end -}}

{{/* The bundled Redis's password: the user's Secret, or the one the chart generates. */}}
{{- define "zoneferry.redisPasswordSecret" -}}
{{ .Values.redis.bundled.passwordSecret | default (include "zoneferry.redis" .) }}
{{- end -}}

{{/* The runner's journal key: the user's Secret, or the one the chart generates. */}}
{{- define "zoneferry.journalKeySecret" -}}
{{ .Values.runner.journalKeySecret | default (printf "%s-journal-key" (include "zoneferry.fullname" .)) }}
{{- end -}}

{{/* A value the chart generates into a Secret, base64: the live Secret's when there is one (so an
upgrade keeps it), else `Length` random characters. `helm template` and client-side dry runs have
no cluster to look in, and render a new value each time. */}}
{{- define "zoneferry.generatedSecretValue" -}}
{{- $live := lookup "v1" "Secret" .Namespace .Name -}}
{{- if and $live $live.data (hasKey $live.data .Key) -}}
{{ index $live.data .Key }}
{{- else -}}
{{ randAlphaNum .Length | b64enc }}
{{- end -}}
{{- end -}}

{{/* Environment both components read (core/config.ts), one value each. The bundled Redis's URL
refers to the password by $(REDIS_PASSWORD), which the kubelet expands from the Secret: the pod
spec never holds it. */}}
{{- define "zoneferry.commonEnv" -}}
- name: LOG_LEVEL
  value: {{ .Values.logLevel | quote }}
- name: MAX_REPLICAS
  value: {{ .Values.maxReplicas | quote }}
- name: WORKLOADS_KRUISE
  value: {{ .Values.workloads.kruise | quote }}
- name: CROSS_ACCOUNT
  value: {{ .Values.crossAccount.enabled | quote }}
{{- if eq .Values.redis.mode "bundled" }}
- name: REDIS_PASSWORD
  valueFrom:
    secretKeyRef: {name: {{ include "zoneferry.redisPasswordSecret" . | quote }}, key: password}
- name: REDIS_URL
  value: {{ printf "redis://:$(REDIS_PASSWORD)@%s:6379/0" (include "zoneferry.redis" .) | quote }}
{{- else if .Values.redis.urlSecret.name }}
- name: REDIS_URL
  valueFrom:
    secretKeyRef: {name: {{ .Values.redis.urlSecret.name | quote }}, key: {{ .Values.redis.urlSecret.key | quote }}}
{{- else }}
- name: REDIS_URL
  value: {{ required "redis.url is required when redis.mode is external (or set redis.urlSecret.name)" .Values.redis.url | quote }}
{{- end }}
{{- end -}}

{{/* Whether a component ("webhook" or "runner", as .Component) asks ECS at all: the runner always;
the webhook unless ecs.credentials.webhook.enabled is false. */}}
{{- define "zoneferry.hasCloud" -}}
{{- if or (eq .Component "runner") .Root.Values.ecs.credentials.webhook.enabled }}true{{ end }}
{{- end -}}

{{/* The component's RAM role (rrsa mode), checked: present, and never the other component's. */}}
{{- define "zoneferry.roleArn" -}}
{{- $credentials := .Root.Values.ecs.credentials }}
{{- $own := (index $credentials .Component).rrsa.roleArn }}
{{- $role := required (printf "ecs.credentials.%s.rrsa.roleArn is required when credentials.mode is rrsa: the %s's own RAM role (docs/security.md)" .Component .Component) $own }}
{{- if and $credentials.webhook.enabled (eq $credentials.runner.rrsa.roleArn $credentials.webhook.rrsa.roleArn) }}
{{- fail "ecs.credentials.webhook.rrsa.roleArn is the runner's role: the webhook must have a role of its own that can only describe disks (docs/security.md)" }}
{{- end }}
{{- $role }}
{{- end -}}

{{/* The component's AccessKey Secret (secret mode), checked the same way. */}}
{{- define "zoneferry.accessKeySecret" -}}
{{- $credentials := .Root.Values.ecs.credentials }}
{{- $own := (index $credentials .Component).secret.name }}
{{- $name := required (printf "ecs.credentials.%s.secret.name is required when credentials.mode is secret: the %s's own AccessKey pair (docs/security.md)" .Component .Component) $own }}
{{- if and $credentials.webhook.enabled (eq $credentials.runner.secret.name $credentials.webhook.secret.name) }}
{{- fail "ecs.credentials.webhook.secret.name is the runner's Secret: the webhook must have an AccessKey of its own that can only describe disks (docs/security.md)" }}
{{- end }}
{{- $name }}
{{- end -}}

{{/* The ECS environment of one component (dict Root, Component): the region and client settings,
and its own credentials. A webhook without a cloud identity gets none of it, so it asks ECS nothing. */}}
{{- define "zoneferry.ecsEnv" -}}
{{- $values := .Root.Values }}
{{- if include "zoneferry.hasCloud" . }}
- name: ECS_REGION_ID
  value: {{ required "ecs.regionId is required: the region of the cluster's disks, e.g. cn-shanghai" $values.ecs.regionId | quote }}
{{- with $values.ecs.endpoint }}
- name: ECS_ENDPOINT
  value: {{ . | quote }}
{{- end }}
{{- /* Resource Sharing: the runner's exports and restores; the webhook never calls it. */}}
{{- if eq .Component "runner" }}
{{- with $values.ecs.resourceSharingEndpoint }}
- name: RESOURCE_SHARING_ENDPOINT
  value: {{ . | quote }}
{{- end }}
{{- with $values.ecs.serviceKeyId }}
- name: ECS_SERVICE_KEY_ID
  value: {{ . | quote }}
{{- end }}
{{- end }}
- name: ECS_PROTOCOL
  value: {{ $values.ecs.protocol | quote }}
- name: ECS_RATE_LIMIT
  value: {{ $values.ecs.rateLimit | quote }}
- name: ECS_CACHE_TTL
  value: {{ $values.ecs.cacheTtl | quote }}
- name: ECS_CONNECT_TIMEOUT
  value: {{ $values.ecs.connectTimeout | quote }}
- name: ECS_READ_TIMEOUT
  value: {{ $values.ecs.readTimeout | quote }}
{{- /* Read by core/config.ts (the ECS endpoint) and by @alicloud/credentials (the STS endpoint of
RRSA): one switch for both, as the library names it. */}}
{{- if $values.ecs.vpcEndpoints }}
- name: ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED
  value: "true"
{{- end }}
{{- with $values.ecs.stsRegion }}
- name: ALIBABA_CLOUD_STS_REGION
  value: {{ . | quote }}
{{- end }}
{{- if eq $values.ecs.credentials.mode "secret" }}
{{- $secret := (index $values.ecs.credentials .Component).secret }}
- name: ALIBABA_CLOUD_ACCESS_KEY_ID
  valueFrom:
    secretKeyRef: {name: {{ include "zoneferry.accessKeySecret" . | quote }}, key: {{ $secret.accessKeyIdKey | quote }}}
- name: ALIBABA_CLOUD_ACCESS_KEY_SECRET
  valueFrom:
    secretKeyRef: {name: {{ include "zoneferry.accessKeySecret" . | quote }}, key: {{ $secret.accessKeySecretKey | quote }}}
{{- else if $values.ecs.credentials.rrsa.mountToken }}
- name: ALIBABA_CLOUD_ROLE_ARN
  value: {{ include "zoneferry.roleArn" . | quote }}
- name: ALIBABA_CLOUD_OIDC_PROVIDER_ARN
  value: {{ required "ecs.credentials.rrsa.oidcProviderArn is required when credentials.mode is rrsa" $values.ecs.credentials.rrsa.oidcProviderArn | quote }}
- name: ALIBABA_CLOUD_OIDC_TOKEN_FILE
  value: /var/run/secrets/ack.alibabacloud.com/rrsa-tokens/token
{{- end }}
{{- end }}
{{- end -}}

{{/* Whether the chart mounts the RRSA token into a component (dict Root, Component). */}}
{{- define "zoneferry.mountsRrsaToken" -}}
{{- $credentials := .Root.Values.ecs.credentials }}
{{- if and (include "zoneferry.hasCloud" .) (eq $credentials.mode "rrsa") $credentials.rrsa.mountToken }}true{{ end }}
{{- end -}}

{{/* RRSA: the projected service account token the credentials chain exchanges for the role. */}}
{{- define "zoneferry.rrsaVolume" -}}
{{- if include "zoneferry.mountsRrsaToken" . }}
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
{{- if include "zoneferry.mountsRrsaToken" . }}
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
{{- /* The CA's Certificate when the chart makes its own CA, so the bundle outlives every serving
certificate; with the user's issuer, the serving certificate's (its ca.crt is that issuer's CA). */}}
{{- $from := printf "%s-ca" (include "zoneferry.webhook" .) }}
{{- if .Values.webhook.certificates.certManager.issuerRef.name }}{{ $from = include "zoneferry.webhook" . }}{{ end }}
annotations:
  cert-manager.io/inject-ca-from: {{ printf "%s/%s" .Release.Namespace $from }}
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
the exclusion of kube-system and the release namespace, which is always on, and in namespaced RBAC
mode with the namespaces the runner has Roles in (a request elsewhere could never be carried out). */}}
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
    {{- if .Values.rbac.namespaced }}
    - key: kubernetes.io/metadata.name
      operator: In
      values: {{ include "zoneferry.rbacNamespaces" . }}
    {{- end }}
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
  {{- if .Values.workloads.kruise }}
  # OpenKruise Advanced StatefulSets (workloads.kruise). v1beta1 only: kruise serves v1alpha1 too,
  # and matchPolicy Equivalent sends a write made through v1alpha1 here as well, converted to
  # v1beta1, the one version the webhook decodes (core/workload/kinds.ts KRUISE).
  - apiGroups: ["apps.kruise.io"]
    apiVersions: ["v1beta1"]
    operations: ["CREATE", "UPDATE"]
    resources: ["statefulsets"]
    scope: Namespaced
  {{- end }}
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

{{/* The migration guard for the scale subresource of one kind of StatefulSet (dict Root, Name,
Group, Version): the ValidatingAdmissionPolicy and its binding (webhook-configurations.yaml). A
Scale carries no annotations, so each StatefulSet of the request's namespace, of the same kind, is
a parameter and the one of the request's name says whether a migration holds it. The CEL and the
message are the same for every kind: this is their one source. */}}
{{- define "zoneferry.scaleGuard" -}}
{{- $root := .Root }}
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: {{ .Name }}
  labels:
    {{- include "zoneferry.labels" $root | nindent 4 }}
    app.kubernetes.io/component: webhook
spec:
  failurePolicy: Fail
  paramKind:
    apiVersion: {{ printf "%s/%s" .Group .Version }}
    kind: StatefulSet
  matchConstraints:
    matchPolicy: Equivalent
    {{- include "zoneferry.namespaceSelector" $root | nindent 4 }}
    resourceRules:
      - apiGroups: [{{ .Group | quote }}]
        apiVersions: [{{ .Version | quote }}]
        operations: ["UPDATE"]
        resources: ["statefulsets/scale"]
        scope: Namespaced
  matchConditions:
    {{- include "zoneferry.notTheRunner" $root | nindent 4 }}
  variables:
    - name: annotations
      expression: "params.metadata.name == request.name && has(params.metadata.annotations) ? params.metadata.annotations : {}"
    - name: status
      expression: "'zoneferry.io/status' in variables.annotations ? variables.annotations['zoneferry.io/status'] : ''"
    - name: replicasChange
      expression: "(has(object.spec.replicas) ? object.spec.replicas : 0) != (has(oldObject.spec.replicas) ? oldObject.spec.replicas : 0)"
  validations:
    - expression: "!(variables.status in ['Pending', 'Running', 'RollingBack']) || !variables.replicasChange"
      reason: Forbidden
      # The guard's own words (webhook/handlers/guard.ts).
      messageExpression: >-
        'zoneferry: StatefulSet ' + request.namespace + '/' + request.name + ' is held by zoneferry migration ' +
        ('zoneferry.io/migration-id' in variables.annotations ? variables.annotations['zoneferry.io/migration-id'] : '(unknown id)') +
        ' (status ' + variables.status +
        ('zoneferry.io/step' in variables.annotations ? ', step ' + variables.annotations['zoneferry.io/step'] : '') +
        '): spec.replicas cannot change until the migration ends; it is released when the migration ends (Succeeded, Failed or RollbackFailed), so apply again then'
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata:
  name: {{ .Name }}
  labels:
    {{- include "zoneferry.labels" $root | nindent 4 }}
    app.kubernetes.io/component: webhook
spec:
  policyName: {{ .Name }}
  validationActions: [Deny]
  paramRef:
    # Every StatefulSet of the request's namespace; the policy reads the one of the request's name.
    selector: {}
    parameterNotFoundAction: Allow
{{- end -}}


{{/* The namespaces of namespaced RBAC mode, as a flow list; at least one. */}}
{{- define "zoneferry.rbacNamespaces" -}}
{{- if not .Values.rbac.namespaces }}
{{- fail "rbac.namespaces is required when rbac.namespaced is true: the namespaces zoneferry may migrate StatefulSets in" }}
{{- end }}
{{- toJson .Values.rbac.namespaces }}
{{- end -}}

{{/* A duration value in milliseconds, parsed as core/duration.ts does: a plain number is minutes,
else a sum of <number><ms|s|m|h> parts (the schema has already checked the form). */}}
{{- define "zoneferry.durationMs" -}}
{{- $text := toString . | trim }}
{{- $ms := 0.0 }}
{{- if regexMatch "^[0-9]+(\\.[0-9]+)?$" $text }}
{{- $ms = mulf (float64 $text) 60000 }}
{{- else }}
{{- $units := dict "ms" 1 "s" 1000 "m" 60000 "h" 3600000 }}
{{- range regexFindAll "[0-9]+(\\.[0-9]+)?(ms|s|m|h)" $text -1 }}
{{- $ms = addf $ms (mulf (float64 (regexFind "^[0-9.]+" .)) (get $units (regexFind "[a-z]+$" .))) }}
{{- end }}
{{- end }}
{{- round $ms 0 | int64 }}
{{- end -}}

{{/* The ranges core/config.ts holds each duration and size to, checked at render time, where a
JSON schema cannot reach (a duration's value, not its form): a value out of range fails `helm
install` with the variable's own rule, instead of a pod that exits at start. Kept equal to
core/config.ts by test/chart/values-config.test.ts. */}}
{{- define "zoneferry.checkRanges" -}}
{{- $v := .Values }}
{{- $durations := list
  (list "ecs.cacheTtl" $v.ecs.cacheTtl "ECS_CACHE_TTL" 0 86400000 "0s" "24h")
  (list "ecs.connectTimeout" $v.ecs.connectTimeout "ECS_CONNECT_TIMEOUT" 100 120000 "100ms" "2m")
  (list "ecs.readTimeout" $v.ecs.readTimeout "ECS_READ_TIMEOUT" 100 120000 "100ms" "2m")
  (list "webhook.enqueueTimeout" $v.webhook.enqueueTimeout "WEBHOOK_ENQUEUE_TIMEOUT" 10 4000 "10ms" "4s")
  (list "webhook.ecsTimeout" $v.webhook.ecsTimeout "WEBHOOK_ECS_TIMEOUT" 10 4000 "10ms" "4s")
  (list "runner.cloudWaitTimeout" $v.runner.cloudWaitTimeout "RUNNER_CLOUD_WAIT_TIMEOUT" 1000 86400000 "1s" "24h")
  (list "runner.reconcileInterval" $v.runner.reconcileInterval "RUNNER_RECONCILE_INTERVAL" 1000 3600000 "1s" "1h")
  (list "runner.leaseDuration" $v.runner.leaseDuration "RUNNER_LEASE_DURATION" 3000 300000 "3s" "5m") }}
{{- range $durations }}
{{- $ms := include "zoneferry.durationMs" (index . 1) | int64 }}
{{- if or (lt $ms (index . 3 | int64)) (gt $ms (index . 4 | int64)) }}
{{- fail (printf "%s=%q is not a duration from %s to %s (%s)" (index . 0) (index . 1) (index . 5) (index . 6) (index . 2)) }}
{{- end }}
{{- end }}
{{- $size := regexFindAll "[0-9]+|Ki|Mi" $v.webhook.bodyLimit -1 }}
{{- $bytes := mul (first $size | int64) (get (dict "Ki" 1024 "Mi" 1048576 "" 1) (ternary (last $size) "" (eq (len $size) 2))) }}
{{- if or (lt $bytes 65536) (gt $bytes 67108864) }}
{{- fail (printf "webhook.bodyLimit=%q is not a size from 64Ki to 64Mi (WEBHOOK_BODY_LIMIT)" $v.webhook.bodyLimit) }}
{{- end }}
{{- end -}}
