"""Tenancy across many clusters (Sveltos' API): the registry of managed clusters, RoleRequests that grant
tenant admins Roles in them, ClusterProfiles deployed as the platform admin or as a tenant admin, and the
`show admin-rbac` view of what is granted.

Pure modules (selectors, clusters, kubeconfigs, grants, profiles, adminrbac) decide; the others talk to
API servers only through `kubetenancy.k8s` and to Helm through `helm`. kopf wiring lives in
`kubetenancy.operator.multicluster`.
"""
