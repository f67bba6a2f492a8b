"""The kopf operator: thin handlers that fetch, call the engine and admission rules, and report."""
