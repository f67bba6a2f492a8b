"""Run the aggregated API server until it is signalled to stop: read the front-proxy settings, learn the
tenants, serve over TLS, register the APIService (and unregister it on a clean stop, if asked)."""

from __future__ import annotations

import asyncio
import logging
import signal

from kubetenancy import pki
from kubetenancy.apiserver.access import AccessReviews
from kubetenancy.apiserver.accounts import Accounts
from kubetenancy.apiserver.config import ApiServerConfig
from kubetenancy.apiserver.informer import Informer
from kubetenancy.apiserver.membership import DOORS, Membership
from kubetenancy.apiserver.server import AggregatedApi, FrontProxy
from kubetenancy.apiserver.showback import TenantCosts
from kubetenancy.apiserver.spaces import Spaces
from kubetenancy.desired.apiservice import (
    APISERVICE_NAME,
    GROUP,
    SHOWBACK_APISERVICE_NAME,
    SHOWBACK_GROUP,
    apiservice,
    external_service,
)
from kubetenancy.k8s import Kube
from kubetenancy.k8s.passthrough import Passthrough
from kubetenancy.serving import start_site

log = logging.getLogger(__name__)
AUTHENTICATION_CONFIG = ("kube-system", "extension-apiserver-authentication")


async def serve(config: ApiServerConfig) -> None:
    kube = Kube(config.kubeconfig)
    api = Passthrough(config.kubeconfig)
    membership = Membership(*(Informer(api, path) for path in DOORS))
    access = AccessReviews(api)
    views = (Spaces(api, access, membership), Accounts(api, access, membership))
    informers = {*membership.informers, *(view.informer for view in views)}
    follow = [asyncio.create_task(membership.run())] + [asyncio.create_task(i.run()) for i in informers]
    try:
        namespace, name = AUTHENTICATION_CONFIG
        authentication = await kube.get("v1", "ConfigMap", name, namespace)
        if authentication is None or "requestheader-client-ca-file" not in (authentication.get("data") or {}):
            raise SystemExit("the API server has no front-proxy (requestheader) settings: it cannot aggregate APIs")
        front_proxy = FrontProxy.from_configmap(authentication["data"])
        await asyncio.gather(membership.loaded(), *(informer.listed() for informer in informers))
        app = AggregatedApi(front_proxy, [*views])
        costs = TenantCosts(front_proxy, kube, access, membership, config.config_namespace, config.prometheus_url)
        ca_file, cert_file, key_file = pki.serving_certificates(config.cert_dir, "apiserver", config.hosts)
        runner = await start_site(
            app.routes() + costs.routes(), config.addr, config.port, front_proxy.context(str(cert_file), str(key_file))
        )
        service_namespace, service = config.service
        if config.external_name is not None:
            await kube.apply(external_service(service_namespace, service, config.external_name))
        for group in (GROUP, SHOWBACK_GROUP):
            await kube.apply(apiservice(service_namespace, service, config.port, ca_file.read_bytes(), group=group))
        log.info("serving tenancy.kiosk.sh and %s on %s:%d", SHOWBACK_GROUP, config.addr, config.port)
        try:
            await _stopped()
        finally:
            if config.unregister_on_exit:
                for name in (APISERVICE_NAME, SHOWBACK_APISERVICE_NAME):
                    await kube.delete("apiregistration.k8s.io/v1", "APIService", name)
            await runner.cleanup()
    finally:
        for task in follow:
            task.cancel()
        await asyncio.gather(*follow, return_exceptions=True)
        await api.close()
        await kube.close()


async def _stopped() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()


def run(config: ApiServerConfig) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx2").setLevel(logging.WARNING)
    asyncio.run(serve(config))
