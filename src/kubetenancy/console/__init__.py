"""The web console: server-rendered pages for tenants and admins, with single sign-on through OIDC.

Every request to the API server carries the logged-in user's own token; the console has no Kubernetes
identity of its own, so each user sees exactly what the API server lets them see.
"""
