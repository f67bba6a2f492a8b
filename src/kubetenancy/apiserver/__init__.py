"""The aggregated API server for `tenancy.kiosk.sh`: Spaces (namespaces) and Accounts, each caller seeing
only their own. Registered with an APIService; the caller's identity arrives in front-proxy headers."""
