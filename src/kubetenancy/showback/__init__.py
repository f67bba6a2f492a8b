"""Showback: what each tenant costs, from Prometheus' samples priced with OpenCost's allocation rules."""
