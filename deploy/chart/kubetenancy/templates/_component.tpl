{{- /* A component: ServiceAccount, Deployment, Service, PDB and its RBAC. */ -}}
{{- define "kubetenancy.component" -}}
apiVersion: v1
kind: ServiceAccount
metadata:
  name: kubetenancy-{{ .name }}
  namespace: {{ .root.Release.Namespace }}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: kubetenancy-{{ .name }}
  namespace: {{ .root.Release.Namespace }}
  labels: {app.kubernetes.io/name: kubetenancy, app.kubernetes.io/component: {{ .name }}}
spec:
  replicas: {{ (index .root.Values .name).replicas }}
  selector:
    matchLabels: {app.kubernetes.io/name: kubetenancy, app.kubernetes.io/component: {{ .name }}}
  template:
    metadata:
      labels: {app.kubernetes.io/name: kubetenancy, app.kubernetes.io/component: {{ .name }}}
    spec:
      serviceAccountName: kubetenancy-{{ .name }}
      securityContext:
        {{- include "kubetenancy.podSecurity" .root | nindent 8 }}
      containers:
        - name: {{ .name }}
          image: {{ include "kubetenancy.image" .root | quote }}
          imagePullPolicy: {{ .root.Values.image.pullPolicy }}
          args: {{ .args | toJson }}
          ports:
            {{- toYaml .ports | nindent 12 }}
          livenessProbe:
            httpGet: {path: /healthz, port: {{ .probePort }}, scheme: {{ .scheme }}}
          readinessProbe:
            httpGet: {path: /readyz, port: {{ .probePort }}, scheme: {{ .scheme }}}
          resources:
            {{- toYaml (index .root.Values .name).resources | nindent 12 }}
          securityContext:
            {{- include "kubetenancy.containerSecurity" .root | nindent 12 }}
          volumeMounts:
            - {name: tmp, mountPath: /tmp}
            - {name: certs, mountPath: /certs, readOnly: true}
      volumes:
        - {name: tmp, emptyDir: {}}
        - name: certs
          secret: {secretName: {{ .service }}-certs}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ .service }}
  namespace: {{ .root.Release.Namespace }}
spec:
  selector: {app.kubernetes.io/name: kubetenancy, app.kubernetes.io/component: {{ .name }}}
  ports:
    - {name: https, port: 443, targetPort: {{ .targetPort }}}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: kubetenancy-{{ .name }}
  namespace: {{ .root.Release.Namespace }}
spec:
  maxUnavailable: 1
  selector:
    matchLabels: {app.kubernetes.io/name: kubetenancy, app.kubernetes.io/component: {{ .name }}}
---
# Not yet least privilege: the broad rules are a Limit of the README until the e2e proves a narrower set.
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: kubetenancy-{{ .name }}
rules:
  - {apiGroups: ["*"], resources: ["*"], verbs: ["*"]}
  - {nonResourceURLs: ["*"], verbs: ["*"]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: kubetenancy-{{ .name }}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: kubetenancy-{{ .name }}}
subjects:
  - {kind: ServiceAccount, name: kubetenancy-{{ .name }}, namespace: {{ .root.Release.Namespace }}}
{{- end }}
