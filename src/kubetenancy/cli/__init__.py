"""`kubetenancy` / `kubectl tenancy`: one typer app for people and for CI."""
