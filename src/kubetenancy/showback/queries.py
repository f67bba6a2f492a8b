"""Every PromQL query showback runs, as text an admin can paste into Prometheus to reproduce a figure. Pure.

Each query is evaluated once, at the window's end (an instant query with `time=END`), and answers
resource-hours over `[END - WINDOW, END]`: a subquery samples the expression every RESOLUTION, and
`sum_over_time(...) * RESOLUTION / 3600` integrates it (a sample stands for the RESOLUTION before it).

- CPU: per container, the larger of its request (`kubetenancy_pod_container_resource_requests`, the
  operator's) and its usage (the rate of the kubelet's `container_cpu_usage_seconds_total`), summed
  per namespace: OpenCost's `container_cpu_allocation`, integrated. The rate is over RESOLUTION, or 30 s
  (two scrapes) when RESOLUTION is shorter. Memory the same with the kubelet's
  `container_memory_working_set_bytes`, in GiB. GPUs: requested `nvidia.com/gpu`. Storage: the requested
  size of each claim, in GiB. A container that requests nothing is still charged its usage.
- Capacity: the nodes' cores and memory (`machine_cpu_cores`, `machine_memory_bytes`, from cAdvisor).
- Owners: the tenant that held each namespace last in the window (`kubetenancy_namespace_tenant`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

GIB = 2**30
RATE_SECONDS = 30
"""The shortest window a CPU rate is taken over: two scrapes 15 s apart (`localcluster/prometheus.py`)."""
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def seconds(duration: str) -> int:
    """A Prometheus duration ("7d", "90m", "1h30m") in seconds."""
    parts = re.fullmatch(r"(?:\d+[smhdw])+", duration.strip())
    if parts is None:
        raise ValueError(f'"{duration}" is not a duration: write it as Prometheus does, e.g. 7d, 24h, 90m')
    return sum(int(n) * _UNITS[u] for n, u in re.findall(r"(\d+)([smhdw])", duration))


@dataclass(frozen=True)
class Selectors:
    """Where the usage and capacity series come from: the local plane's job names, or your Prometheus'."""

    usage: str = 'job="kubelet"'
    """The kubelet's `/metrics/resource` (container usage by namespace, pod, container)."""
    capacity: str = 'job="cadvisor"'
    """The kubelet's `/metrics/cadvisor` (machine_cpu_cores, machine_memory_bytes)."""


@dataclass(frozen=True)
class Queries:
    window: str = "7d"
    resolution: str = "1m"
    selectors: Selectors = Selectors()

    def _integrated(self, expression: str, per: str = "3600") -> str:
        resolution = seconds(self.resolution)
        return f"sum_over_time(({expression})[{self.window}:{self.resolution}]) * {resolution} / {per}"

    def _allocated(self, resource: str, usage: str) -> str:
        requests = f'kubetenancy_pod_container_resource_requests{{resource="{resource}"}}'
        larger = (
            "max by (namespace, pod, container) ("
            f'label_replace(sum by (namespace, pod, container) ({requests}), "source", "request", "", "")'
            f' or label_replace(sum by (namespace, pod, container) ({usage}), "source", "usage", "", ""))'
        )
        return f"sum by (namespace) ({larger})"

    @property
    def cpu(self) -> str:
        rate_window = f"{max(RATE_SECONDS, seconds(self.resolution))}s"
        usage = f"rate(container_cpu_usage_seconds_total{{{self.selectors.usage}}}[{rate_window}])"
        return self._integrated(self._allocated("cpu", usage))

    @property
    def ram(self) -> str:
        usage = f"container_memory_working_set_bytes{{{self.selectors.usage}}}"
        return self._integrated(self._allocated("memory", usage), f"(3600 * {GIB})")

    @property
    def gpu(self) -> str:
        requests = 'kubetenancy_pod_container_resource_requests{resource="nvidia.com/gpu"}'
        return self._integrated(f"sum by (namespace) ({requests})")

    @property
    def storage(self) -> str:
        claims = "kubetenancy_persistentvolumeclaim_resource_requests_storage_bytes"
        return self._integrated(f"sum by (namespace) ({claims})", f"(3600 * {GIB})")

    @property
    def capacity_cpu(self) -> str:
        return self._integrated(f"sum(machine_cpu_cores{{{self.selectors.capacity}}})")

    @property
    def capacity_ram(self) -> str:
        return self._integrated(f"sum(machine_memory_bytes{{{self.selectors.capacity}}})", f"(3600 * {GIB})")

    @property
    def owners(self) -> str:
        return (
            "max by (namespace, tenant) (max_over_time(timestamp(kubetenancy_namespace_tenant)"
            f"[{self.window}:{self.resolution}]))"
        )

    def all(self) -> dict[str, str]:
        """Every query by name, in the order they are documented (README, Showback)."""
        names = ("cpu", "ram", "gpu", "storage", "capacity_cpu", "capacity_ram", "owners")
        return {name: getattr(self, name) for name in names}
