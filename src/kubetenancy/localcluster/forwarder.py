"""A TCP forwarder from a node's network namespace to the host's loopback.

The API server and the registry listen on the host's 127.0.0.1 only. A node (its kubelet, kube-proxy,
CoreDNS, containerd and pods) lives in its own namespace, where that loopback is not the host's. This
process listens on the node IP inside the namespace and connects to 127.0.0.1 in the host's namespace:
a socket keeps the namespace it was created in, so it creates its listening sockets after entering the
node's namespace and its outgoing ones after returning to its own.

Run as `python -m kubetenancy.localcluster.forwarder NETNS ADDRESS PORT…`. It forwards bytes only; it
never reads or changes what passes through.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import socket
from collections.abc import Awaitable, Callable
from pathlib import Path

from kubetenancy.localcluster.netns import NETNS_DIR, setns


def listening_sockets(netns: str, address: str, ports: list[int]) -> list[socket.socket]:
    """Sockets bound to `address` in `netns`; the calling thread is back in its own namespace afterwards."""
    with Path("/proc/thread-self/ns/net").open("rb") as home:  # a descriptor: the path changes meaning after setns
        setns(NETNS_DIR / netns)
        try:
            sockets = []
            for port in ports:
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.bind((address, port))
                sock.listen(256)
                sock.setblocking(False)
                sockets.append(sock)
        finally:
            setns(Path(f"/proc/self/fd/{home.fileno()}"))
    return sockets


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        with contextlib.suppress(ConnectionError, OSError):
            writer.close()


def _forwarding_to(port: int) -> Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]:
    async def forward(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            writer.close()
            return
        await asyncio.gather(_pipe(reader, upstream_writer), _pipe(upstream_reader, writer))

    return forward


async def _serve(sockets: list[socket.socket]) -> None:
    servers = [await asyncio.start_server(_forwarding_to(s.getsockname()[1]), sock=s) for s in sockets]
    await asyncio.gather(*(server.serve_forever() for server in servers))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("netns", help="the node's network namespace (a name under /run/netns)")
    parser.add_argument("address", help="the node IP to listen on inside it")
    parser.add_argument("ports", nargs="+", type=int, help="ports to forward to the same port on 127.0.0.1")
    args = parser.parse_args()
    asyncio.run(_serve(listening_sockets(args.netns, args.address, args.ports)))


if __name__ == "__main__":
    main()
