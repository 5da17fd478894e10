{{/* Names and labels. */}}
{{- define "datahub-scim.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "datahub-scim.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "datahub-scim.selectorLabels" -}}
app.kubernetes.io/name: {{ include "datahub-scim.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "datahub-scim.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "datahub-scim.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "datahub-scim.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{- define "datahub-scim.tlsSecret" -}}
{{- if .Values.tls.existingSecret -}}
{{- .Values.tls.existingSecret -}}
{{- else -}}
{{- printf "%s-tls" (include "datahub-scim.fullname" .) -}}
{{- end -}}
{{- end -}}

{{- define "datahub-scim.gmsUrl" -}}
{{- if eq .Values.mode "sidecar" -}}
http://localhost:8080
{{- else -}}
{{- required "gms.url is required in standalone mode (e.g. http://datahub-datahub-gms:8080)" .Values.gms.url -}}
{{- end -}}
{{- end -}}

{{/*
The settings, one DATAHUB_SCIM_* variable each (names as config.rs reads them).
File paths point at the volumes of "datahub-scim.volumes".
*/}}
{{- define "datahub-scim.settings" -}}
{{- $c := .Values.config -}}
DATAHUB_GMS_URL: {{ include "datahub-scim.gmsUrl" . | quote }}
DATAHUB_SCIM_LISTEN: {{ printf "0.0.0.0:%v" .Values.ports.scim | quote }}
DATAHUB_SCIM_ADMIN_LISTEN: {{ printf "0.0.0.0:%v" .Values.ports.admin | quote }}
{{- if not $c.insecurePlainHttp }}
DATAHUB_SCIM_TLS_CERT_FILE: "/etc/datahub-scim/tls/tls.crt"
DATAHUB_SCIM_TLS_KEY_FILE: "/etc/datahub-scim/tls/tls.key"
{{- end }}
DATAHUB_SCIM_INSECURE_PLAIN_HTTP: {{ $c.insecurePlainHttp | toString | quote }}
{{- with $c.publicUrl }}
DATAHUB_SCIM_PUBLIC_URL: {{ . | quote }}
{{- end }}
{{- if .Values.gms.caSecret.name }}
DATAHUB_SCIM_GMS_CA_FILE: {{ printf "/etc/datahub-scim/gms-ca/%s" .Values.gms.caSecret.key | quote }}
{{- end }}
{{- if .Values.tokenSigningKey.existingSecret }}
DATAHUB_SCIM_TOKEN_SIGNING_KEY_FILE: {{ printf "/etc/datahub-scim/signing/%s" .Values.tokenSigningKey.key | quote }}
{{- end }}
DATAHUB_SCIM_GMS_CONNECT_TIMEOUT: {{ $c.gmsConnectTimeout | quote }}
DATAHUB_SCIM_GMS_REQUEST_TIMEOUT: {{ $c.gmsRequestTimeout | quote }}
DATAHUB_SCIM_GMS_MAX_CONCURRENCY: {{ $c.gmsMaxConcurrency | int64 | toString | quote }}
DATAHUB_SCIM_GMS_QUEUE_TIMEOUT: {{ $c.gmsQueueTimeout | quote }}
DATAHUB_SCIM_MAX_BODY_BYTES: {{ $c.maxBodyBytes | int64 | toString | quote }}
DATAHUB_SCIM_MAX_INFLIGHT_BODY_BYTES: {{ $c.maxInflightBodyBytes | int64 | toString | quote }}
DATAHUB_SCIM_BULK_MAX_OPERATIONS: {{ $c.bulkMaxOperations | int64 | toString | quote }}
{{- with $c.bulkMaxPayloadBytes }}
DATAHUB_SCIM_BULK_MAX_PAYLOAD_BYTES: {{ . | int64 | toString | quote }}
{{- end }}
DATAHUB_SCIM_MAX_CONNECTIONS: {{ $c.maxConnections | int64 | toString | quote }}
DATAHUB_SCIM_IDLE_TIMEOUT: {{ $c.idleTimeout | quote }}
DATAHUB_SCIM_HANDSHAKE_TIMEOUT: {{ $c.handshakeTimeout | quote }}
DATAHUB_SCIM_AUTH_FAILURE_LIMIT: {{ $c.authFailureLimit | int64 | toString | quote }}
DATAHUB_SCIM_REQUEST_DEADLINE: {{ $c.requestDeadline | quote }}
DATAHUB_SCIM_SHUTDOWN_DELAY: {{ $c.shutdownDelay | quote }}
DATAHUB_SCIM_SHUTDOWN_GRACE: {{ $c.shutdownGrace | quote }}
DATAHUB_SCIM_TOKEN_CACHE_TTL: {{ $c.tokenCacheTtl | quote }}
DATAHUB_SCIM_TOKEN_CACHE_FAILURE_TTL: {{ $c.tokenCacheFailureTtl | quote }}
DATAHUB_SCIM_TLS_RELOAD_INTERVAL: {{ $c.tlsReloadInterval | quote }}
DATAHUB_SCIM_GMS_PROBE_INTERVAL: {{ $c.gmsProbeInterval | quote }}
DATAHUB_SCIM_USERNAME_SOURCE: {{ $c.usernameSource | quote }}
DATAHUB_SCIM_USERNAME_REGEX: {{ $c.usernameRegex | quote }}
DATAHUB_SCIM_USERNAME_LOWERCASE: {{ $c.usernameLowercase | toString | quote }}
DATAHUB_SCIM_IDP_NAME: {{ $c.idpName | quote }}
DATAHUB_SCIM_USER_DELETE: {{ $c.userDelete | quote }}
DATAHUB_SCIM_GROUP_DELETE: {{ $c.groupDelete | quote }}
DATAHUB_SCIM_USER_RENAME: {{ $c.userRename | quote }}
DATAHUB_SCIM_IDP_ROLES: {{ $c.idpRoles | toString | quote }}
DATAHUB_SCIM_MAX_PAGE_SIZE: {{ $c.maxPageSize | int64 | toString | quote }}
DATAHUB_SCIM_MAX_FILTER_SCAN: {{ $c.maxFilterScan | int64 | toString | quote }}
DATAHUB_SCIM_ID_CACHE_CAPACITY: {{ $c.idCacheCapacity | int64 | toString | quote }}
DATAHUB_SCIM_ID_CACHE_TTL: {{ $c.idCacheTtl | quote }}
DATAHUB_SCIM_WRITE_RETRIES: {{ $c.writeRetries | int64 | toString | quote }}
DATAHUB_SCIM_WRITE_BATCH_SIZE: {{ $c.writeBatchSize | int64 | toString | quote }}
DATAHUB_SCIM_LOG_FORMAT: {{ $c.logFormat | quote }}
DATAHUB_SCIM_LOG_LEVEL: {{ $c.logLevel | quote }}
{{- with $c.auditLog }}
DATAHUB_SCIM_AUDIT_LOG: {{ . | quote }}
{{- end }}
{{- end -}}

{{/* Pod volumes the container mounts (TLS, optional GMS CA, optional signing key). */}}
{{- define "datahub-scim.volumes" -}}
{{- if not .Values.config.insecurePlainHttp }}
- name: datahub-scim-tls
  secret:
    secretName: {{ include "datahub-scim.tlsSecret" . }}
{{- end }}
{{- if .Values.gms.caSecret.name }}
- name: datahub-scim-gms-ca
  secret:
    secretName: {{ .Values.gms.caSecret.name }}
{{- end }}
{{- if .Values.tokenSigningKey.existingSecret }}
- name: datahub-scim-signing
  secret:
    secretName: {{ .Values.tokenSigningKey.existingSecret }}
{{- end }}
{{- end -}}

{{/*
The gateway container, shared by the Deployment (standalone) and the sidecar snippet,
so the two modes cannot drift. Call with (dict "root" $ "name" "datahub-scim").
*/}}
{{- define "datahub-scim.container" -}}
{{- $root := .root -}}
{{- $v := $root.Values -}}
- name: {{ .name }}
  image: {{ include "datahub-scim.image" $root }}
  imagePullPolicy: {{ $v.image.pullPolicy }}
  args: ["serve"]
  envFrom:
    - configMapRef:
        name: {{ include "datahub-scim.fullname" $root }}
  ports:
    - name: scim
      containerPort: {{ $v.ports.scim }}
      protocol: TCP
    - name: scim-admin
      containerPort: {{ $v.ports.admin }}
      protocol: TCP
  livenessProbe:
    httpGet:
      path: /live
      port: scim-admin
    periodSeconds: 10
    failureThreshold: 3
  readinessProbe:
    httpGet:
      path: /ready
      port: scim-admin
    periodSeconds: 5
    failureThreshold: 2
  startupProbe:
    httpGet:
      path: /live
      port: scim-admin
    periodSeconds: 2
    failureThreshold: 30
  securityContext:
    {{- toYaml $v.securityContext | nindent 4 }}
  resources:
    {{- toYaml $v.resources | nindent 4 }}
  volumeMounts:
    {{- if not $v.config.insecurePlainHttp }}
    - name: datahub-scim-tls
      mountPath: /etc/datahub-scim/tls
      readOnly: true
    {{- end }}
    {{- if $v.gms.caSecret.name }}
    - name: datahub-scim-gms-ca
      mountPath: /etc/datahub-scim/gms-ca
      readOnly: true
    {{- end }}
    {{- if $v.tokenSigningKey.existingSecret }}
    - name: datahub-scim-signing
      mountPath: /etc/datahub-scim/signing
      readOnly: true
    {{- end }}
{{- end -}}
