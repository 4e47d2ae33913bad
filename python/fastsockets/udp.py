"""``sockets.udp``: Chrome's UDP socket API (spec §3) on the native loop.

Every function takes Chrome's arguments in Chrome's order and reports through a completion
callback that runs later on the loop thread.  Where Chrome calls back "with no argument", the
Python callback receives ``None``; functions whose Chrome callback takes no parameter at all
(``update``, ``setPaused``, ``close``) call it with no argument.  While the callback of a failed
call runs, ``app.runtime.lastError`` is ``{"message": ...}``.

Received datagrams arrive through ``onReceive`` as ``{"socketId", "data", "remoteAddress",
"remotePort"}``.  ``data`` is a zero-copy, read-only ``RecvView`` (buffer protocol): it stays
valid for as long as you reference it - keep it, and its bytes never change; drop it, and its
buffer returns to the pool.
"""

from __future__ import annotations

import ipaddress
import socket
import struct
from collections import deque
from typing import Any, Callable, Optional

from . import _sockcore
from . import errors as E
from ._args import (
    check_bool,
    check_callback,
    check_data,
    check_dns_query_type,
    check_int,
    check_port,
    check_properties,
    check_socket_id,
    check_str,
)
from .app import MSG_NOT_FOUND, MSG_QUOTA
from .events import Event
from .manifest import DENIED_UDP
from .registry import Registry

__all__ = ["UDP"]


Callback = Optional[Callable[..., object]]

#: Receive size used when bufferSize is unset or <= 0 (Chrome: 4096).
DEFAULT_BUFFER_SIZE = 4096
#: No UDP datagram is larger than this (IPv4 and IPv6 without jumbograms), so larger
#: bufferSize values allocate no more than this per receive slot.
MAX_DATAGRAM = 65536
#: Receive slots per recvmmsg are reduced for large bufferSize so one batch stays <= 4 MiB.
MAX_BATCH_BYTES = 4 << 20

_PROPS = ("persistent", "name", "bufferSize")
_ANY = "any"


def _parse_ip(address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The IP literal ``address`` denotes, or None (hostnames, brackets, garbage)."""
    try:
        return ipaddress.ip_address(address)
    except ValueError:
        return None


def _sockaddr(ip: ipaddress.IPv4Address | ipaddress.IPv6Address, port: int) -> tuple[int, tuple[Any, ...]]:
    if ip.version == 4:
        return socket.AF_INET, (str(ip), port)
    scope = ip.scope_id or ""
    text = str(ip).split("%", 1)[0]
    scope_id = 0
    if scope:
        try:
            scope_id = int(scope) if scope.isdigit() else socket.if_nametoindex(scope)
        except OSError:
            scope_id = 0
    return socket.AF_INET6, (text, port, 0, scope_id)


class _UdpSocket:
    """State of one sockets.udp socket (loop thread only)."""

    __slots__ = (
        "socket_id", "persistent", "name", "buffer_size", "paused", "sock", "receiver",
        "bound", "options_open", "mc_ttl", "mc_loop", "groups", "sendq", "send_blocked",
    )

    def __init__(self, props: dict[str, Any]) -> None:
        self.socket_id = 0
        self.persistent: bool = props.get("persistent", False)
        self.name: str = props.get("name", "")
        self.buffer_size: int = props.get("bufferSize", 0)
        self.paused = False
        self.sock: socket.socket | None = None
        self.receiver: _sockcore.UdpReceiver | None = None
        self.bound = False
        self.options_open = True  # setMulticast* allowed until the first bind attempt
        self.mc_ttl: int | None = None
        self.mc_loop: bool | None = None
        self.groups: list[str] = []
        self.sendq: deque[_Send] = deque()
        self.send_blocked = False

    def slot_size(self) -> int:
        size = self.buffer_size if self.buffer_size > 0 else DEFAULT_BUFFER_SIZE
        return min(size, MAX_DATAGRAM)


class _Send:
    """One queued send: waits for its address (DNS) and for its turn."""

    __slots__ = ("data", "size", "callback", "addr", "family", "error")

    def __init__(self, data: Any, size: int, callback: Callback) -> None:
        self.data = data
        self.size = size
        self.callback = callback
        self.addr: tuple[Any, ...] | None = None
        self.family = 0
        self.error = 0  # a net error code once resolution failed


class UDP:
    """``app.sockets.udp``.  See the module docstring for the calling conventions."""

    def __init__(self, app: Any) -> None:
        self._app = app
        self._loop = app._loop
        self._sockets: Registry[_UdpSocket] = Registry()
        self.onReceive = Event("sockets.udp.onReceive")
        self.onReceiveError = Event("sockets.udp.onReceiveError")

    on_receive = property(lambda self: self.onReceive)
    on_receive_error = property(lambda self: self.onReceiveError)

    # -- helpers --------------------------------------------------------------------------------

    def _lookup(self, socket_id: int, callback: Callback, args: tuple[Any, ...]) -> _UdpSocket | None:
        s = self._sockets.get(socket_id)
        if s is None:
            self._app._complete(callback, args, MSG_NOT_FOUND)
        return s

    def _fail(self, callback: Callback, code: int) -> None:
        self._app._complete(callback, (code,), E.net_error_message(code))

    # -- create / update / setPaused ----------------------------------------------------------------

    def create(self, properties: dict[str, Any] | None | Callback = None, callback: Callback = None) -> None:
        """Create a UDP socket.  ``callback({"socketId": id})``.  Never fails.

        :raises TypeError, ValueError: bad ``properties`` (only persistent, name, bufferSize)."""
        if callback is None and callable(properties):
            properties, callback = None, properties
        props = check_properties(properties, _PROPS)
        check_callback(callback)
        self._loop.submit(self._create, props, callback)

    def _create(self, props: dict[str, Any], callback: Callback) -> None:
        s = _UdpSocket(props)
        s.socket_id = self._sockets.add(s)
        self._app._complete(callback, ({"socketId": s.socket_id},))

    def update(self, socketId: int, properties: dict[str, Any], callback: Callback = None) -> None:
        """Change the given properties (others keep their values); ``callback()``.
        A new bufferSize applies from the next receive call on."""
        check_socket_id(socketId)
        if properties is None:
            raise TypeError("properties must be a dict, not None")
        props = check_properties(properties, _PROPS)
        check_callback(callback)
        self._loop.submit(self._update, socketId, props, callback)

    def _update(self, socket_id: int, props: dict[str, Any], callback: Callback) -> None:
        s = self._lookup(socket_id, callback, ())
        if s is None:
            return
        if "persistent" in props:
            s.persistent = props["persistent"]
        if "name" in props:
            s.name = props["name"]
        if "bufferSize" in props:
            s.buffer_size = props["bufferSize"]
            if s.receiver is not None:
                s.receiver.set_buffer_size(s.slot_size())
        self._app._complete(callback, ())

    def setPaused(self, socketId: int, paused: bool, callback: Callback = None) -> None:
        """Pause or resume receiving; ``callback()``.  Takes effect at once: after
        ``setPaused(id, True)`` on the loop thread no further onReceive is delivered for the
        socket, not even from a batch being dispatched; datagrams already read are held (never
        dropped) and delivered after ``setPaused(id, False)``."""
        check_socket_id(socketId)
        check_bool(paused, "paused")
        check_callback(callback)
        self._loop.submit(self._set_paused, socketId, paused, callback)

    def _set_paused(self, socket_id: int, paused: bool, callback: Callback) -> None:
        s = self._lookup(socket_id, callback, ())
        if s is None:
            return
        if s.paused != paused:
            s.paused = paused
            if s.receiver is not None:
                if paused:
                    s.receiver.stop()
                else:
                    s.receiver.start()
        self._app._complete(callback, ())

    # -- bind ----------------------------------------------------------------------------------

    def bind(self, socketId: int, address: str, port: int, callback: Callback = None) -> None:
        """Bind to a local IP literal and port (0: ephemeral) and start receiving unless paused.
        ``callback(0)`` or ``callback(code)`` with lastError; ``callback(None)`` for an unknown
        id or a denied permission (lastError "App does not have permission")."""
        check_socket_id(socketId)
        check_str(address, "address")
        check_port(port)
        check_callback(callback)
        self._loop.submit(self._bind, socketId, address, port, callback)

    def _bind(self, socket_id: int, address: str, port: int, callback: Callback) -> None:
        s = self._lookup(socket_id, callback, (None,))
        if s is None:
            return
        if not self._app._allowed("udp.bind", address, port):
            self._app._complete(callback, (None,), DENIED_UDP)
            return
        if s.bound:
            self._fail(callback, E.ERR_CONNECTION_FAILED)
            return
        ip = _parse_ip(address)
        if ip is None:
            self._fail(callback, E.ERR_INVALID_ARGUMENT)
            return
        # From here on the multicast options belong to the OS socket, even if bind fails.
        s.options_open = False
        family, sockaddr = _sockaddr(ip, port)
        sock = None
        try:
            sock = socket.socket(family, socket.SOCK_DGRAM)
            sock.setblocking(False)
            if self._app._udp_rcvbuf is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self._app._udp_rcvbuf)
            self._apply_multicast_options(s, sock, family)
            sock.bind(sockaddr)
        except OSError as exc:
            if sock is not None:
                sock.close()
            self._fail(callback, E.errno_to_net(exc.errno or 0))
            return
        s.sock = sock
        s.bound = True
        slot = s.slot_size()
        batch = max(1, min(self._app._udp_batch, MAX_BATCH_BYTES // slot))
        on_error: Callable[[int], None] = lambda err: self._on_receive_error(s, err)
        on_writable: Callable[[], None] = lambda: self._on_writable(s)
        s.receiver = _sockcore.UdpReceiver(
            self._loop.core, sock, s.socket_id, self.onReceive.listeners, on_error, slot,
            batch=batch, budget=self._app._udp_budget, pool_max_bytes=self._app._udp_pool_bytes,
            on_writable=on_writable,
        )
        if not s.paused:
            s.receiver.start()
        self._app._complete(callback, (0,))

    @staticmethod
    def _apply_multicast_options(s: _UdpSocket, sock: socket.socket, family: int) -> None:
        if s.mc_ttl is not None:
            if family == socket.AF_INET:
                sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, s.mc_ttl)
            else:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, s.mc_ttl)
        if s.mc_loop is not None:
            if family == socket.AF_INET:
                sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, int(s.mc_loop))
            else:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_LOOP, int(s.mc_loop))

    def _on_receive_error(self, s: _UdpSocket, err: int) -> None:
        """From the receiver: a receive error or an oversize datagram.  Chrome: onReceiveError,
        and the socket is paused."""
        code = E.errno_to_net(err)
        s.paused = True
        if s.receiver is not None:
            s.receiver.stop()
        self.onReceiveError.dispatch({"socketId": s.socket_id, "resultCode": code})

    # -- send ----------------------------------------------------------------------------------

    def send(
        self,
        socketId: int,
        data: Any,
        address: str,
        port: int,
        dnsQueryType: str | None | Callback = None,
        callback: Callback = None,
    ) -> None:
        """Send one datagram to ``address:port`` (an IP literal or a hostname, resolved off the
        loop thread honouring ``dnsQueryType``; only the first address is used).  The socket
        must be bound.  ``callback({"resultCode": 0, "bytesSent": n})``; on failure
        ``callback({"resultCode": code})`` with lastError, or ``callback(None)`` for quota,
        unknown id and permission.  Sends of one socket complete in call order.

        :raises TypeError, ValueError: bad arguments (data must be bytes-like; port 0..65535)."""
        if callback is None and callable(dnsQueryType):
            dnsQueryType, callback = None, dnsQueryType
        check_socket_id(socketId)
        payload = check_data(data)
        check_str(address, "address")
        check_port(port)
        dns = check_dns_query_type(dnsQueryType)
        check_callback(callback)
        self._loop.submit(self._send, socketId, payload, address, port, dns, callback)

    def _send(self, socket_id: int, data: Any, address: str, port: int, dns: str | None,
              callback: Callback) -> None:
        app = self._app
        size = len(data) if isinstance(data, bytes) else memoryview(data).nbytes
        if not app._quota_acquire(size):
            app._complete(callback, (None,), MSG_QUOTA)
            return
        s = self._sockets.get(socket_id)
        if s is None:
            app._quota_release(size)
            app._complete(callback, (None,), MSG_NOT_FOUND)
            return
        if not app._allowed("udp.send", address, port):
            app._quota_release(size)
            app._complete(callback, (None,), DENIED_UDP)
            return
        op = _Send(data, size, callback)
        s.sendq.append(op)
        ip = _parse_ip(address)
        if ip is not None:
            op.family, op.addr = _sockaddr(ip, port)
            if len(s.sendq) == 1:
                self._pump(s)
            return
        family = {"ipv4": socket.AF_INET, "ipv6": socket.AF_INET6}.get(dns or _ANY, socket.AF_UNSPEC)

        def resolve() -> tuple[int, tuple[Any, ...]]:
            infos = socket.getaddrinfo(address, port, family, socket.SOCK_DGRAM)
            return infos[0][0], infos[0][4]

        def resolved(result: Any, exc: BaseException | None) -> None:
            if exc is not None or not result:
                op.error = E.ERR_NAME_NOT_RESOLVED
            else:
                op.family, op.addr = result
            self._pump(s)

        self._app._resolve_in_background(resolve, resolved)

    def _pump(self, s: _UdpSocket) -> None:
        """Send queued datagrams in order while their addresses are known and the socket
        accepts them."""
        app = self._app
        q = s.sendq
        while q:
            op = q[0]
            if op.addr is None and not op.error:
                return  # still resolving; later sends wait their turn
            if s.send_blocked:
                return
            if op.error:
                q.popleft()
                app._quota_release(op.size)
                self._complete_send(op, op.error)
                continue
            sock = s.sock
            if sock is None or not s.bound:
                q.popleft()
                app._quota_release(op.size)
                self._complete_send(op, E.ERR_SOCKET_NOT_CONNECTED)
                continue
            addr = op.addr
            assert addr is not None
            if op.family != sock.family:
                if sock.family == socket.AF_INET6 and op.family == socket.AF_INET:
                    addr = ("::ffff:" + addr[0], addr[1], 0, 0)
                else:
                    q.popleft()
                    app._quota_release(op.size)
                    self._complete_send(op, E.ERR_ADDRESS_UNREACHABLE)
                    continue
            try:
                sent = sock.sendto(op.data, addr)
            except BlockingIOError:
                s.send_blocked = True
                if s.receiver is not None:
                    s.receiver.want_writable(True)
                return
            except OSError as exc:
                q.popleft()
                app._quota_release(op.size)
                self._complete_send(op, E.errno_to_net(exc.errno or 0))
                continue
            q.popleft()
            app._quota_release(op.size)
            app._complete(op.callback, ({"resultCode": 0, "bytesSent": sent},))

    def _complete_send(self, op: _Send, code: int) -> None:
        self._app._complete(op.callback, ({"resultCode": code},), E.net_error_message(code))

    def _on_writable(self, s: _UdpSocket) -> None:
        s.send_blocked = False
        if s.receiver is not None:
            s.receiver.want_writable(False)
        self._pump(s)

    # -- close / info ----------------------------------------------------------------------------

    def close(self, socketId: int, callback: Callback = None) -> None:
        """Destroy the socket: leaves its groups, releases the port, drops datagrams not yet
        delivered; the id is invalid at once.  Views already delivered stay valid.
        ``callback()`` runs once the OS socket is closed.  Pending sends complete with
        ``{"resultCode": -15}``."""
        check_socket_id(socketId)
        check_callback(callback)
        self._loop.submit(self._close, socketId, callback)

    def _close(self, socket_id: int, callback: Callback) -> None:
        s = self._sockets.remove(socket_id)
        if s is None:
            self._app._complete(callback, (), MSG_NOT_FOUND)
            return
        self._destroy(s)
        self._app._complete(callback, ())

    def _destroy(self, s: _UdpSocket) -> None:
        if s.receiver is not None:
            s.receiver.close()
            s.receiver = None
        if s.sock is not None:
            s.sock.close()
            s.sock = None
        s.bound = False
        s.groups.clear()
        while s.sendq:
            op = s.sendq.popleft()
            self._app._quota_release(op.size)
            self._complete_send(op, E.ERR_SOCKET_NOT_CONNECTED)

    def _close_all(self, everything: bool) -> None:
        for sid in list(self._sockets):
            s = self._sockets.get(sid)
            if s is not None and (everything or not s.persistent):
                self._sockets.remove(sid)
                self._destroy(s)

    def _info(self, s: _UdpSocket) -> dict[str, Any]:
        info: dict[str, Any] = {"socketId": s.socket_id, "persistent": s.persistent}
        if s.name:
            info["name"] = s.name
        if s.buffer_size > 0:
            info["bufferSize"] = s.buffer_size
        info["paused"] = s.paused
        if s.bound and s.sock is not None:
            try:
                local = s.sock.getsockname()
            except OSError:
                local = None
            if local:
                info["localAddress"] = local[0].split("%", 1)[0]
                info["localPort"] = local[1]
        return info

    def getInfo(self, socketId: int, callback: Callback = None) -> None:
        """``callback(SocketInfo)``; ``callback(None)`` + "Socket not found" for an unknown id."""
        check_socket_id(socketId)
        check_callback(callback)
        self._loop.submit(self._get_info, socketId, callback)

    def _get_info(self, socket_id: int, callback: Callback) -> None:
        s = self._lookup(socket_id, callback, (None,))
        if s is not None:
            self._app._complete(callback, (self._info(s),))

    def getSockets(self, callback: Callback = None) -> None:
        """``callback([SocketInfo, ...])`` for every open UDP socket of this App."""
        check_callback(callback)
        self._loop.submit(self._get_sockets, callback)

    def _get_sockets(self, callback: Callback) -> None:
        infos = [self._info(s) for s in self._sockets.values()]
        self._app._complete(callback, (infos,))

    def stats(self, socketId: int) -> dict[str, int] | None:
        """Receive counters of a bound socket, or None: ``received``, ``copies`` (pool limit
        reached), ``truncated`` (oversize), ``held`` (read but not delivered while paused), pool
        use (``slot_size``, ``slots_in_use``, ``slots_cached``, ``slots_allocated``,
        ``pool_exhausted``) and the effective ``rcvbuf``.  A fastsockets extension; call it on
        the loop thread."""
        check_socket_id(socketId)
        s = self._sockets.get(socketId)
        if s is None or s.receiver is None or s.sock is None:
            return None
        out = dict(s.receiver.stats())
        out["rcvbuf"] = s.sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
        return out

    # -- multicast / broadcast ----------------------------------------------------------------------

    def joinGroup(self, socketId: int, address: str, callback: Callback = None) -> None:
        """Join the multicast group ``address`` (an IP literal) on the bound socket.
        ``callback(0)``, or a code: -108 bad or already joined address, -9 not bound."""
        check_socket_id(socketId)
        check_str(address, "address")
        check_callback(callback)
        self._loop.submit(self._membership, socketId, address, True, callback)

    def leaveGroup(self, socketId: int, address: str, callback: Callback = None) -> None:
        """Leave a group joined with joinGroup.  ``callback(0)``, or -108 if not joined."""
        check_socket_id(socketId)
        check_str(address, "address")
        check_callback(callback)
        self._loop.submit(self._membership, socketId, address, False, callback)

    def _membership(self, socket_id: int, address: str, join: bool, callback: Callback) -> None:
        s = self._lookup(socket_id, callback, (None,))
        if s is None:
            return
        if not self._app._allowed("udp.multicastMembership", "*", 0):
            self._app._complete(callback, (None,), DENIED_UDP)
            return
        ip = _parse_ip(address)
        if ip is None:
            self._fail(callback, E.ERR_ADDRESS_INVALID)
            return
        normalized = str(ip)
        if join:
            if normalized in s.groups:
                self._fail(callback, E.ERR_ADDRESS_INVALID)
                return
            if not s.bound or s.sock is None:
                self._fail(callback, E.ERR_UNEXPECTED)
                return
        elif normalized not in s.groups or s.sock is None:
            self._fail(callback, E.ERR_ADDRESS_INVALID)
            return
        sock = s.sock
        try:
            if ip.version == 4:
                if sock.family != socket.AF_INET:
                    raise OSError(22, "IPv4 group on an IPv6 socket")
                mreq = struct.pack("4s4si", ip.packed, b"\0\0\0\0", 0)
                opt = socket.IP_ADD_MEMBERSHIP if join else socket.IP_DROP_MEMBERSHIP
                sock.setsockopt(socket.IPPROTO_IP, opt, mreq)
            else:
                if sock.family != socket.AF_INET6:
                    raise OSError(22, "IPv6 group on an IPv4 socket")
                mreq6 = struct.pack("16sI", ip.packed, 0)
                opt = socket.IPV6_JOIN_GROUP if join else socket.IPV6_LEAVE_GROUP
                sock.setsockopt(socket.IPPROTO_IPV6, opt, mreq6)
        except OSError as exc:
            self._fail(callback, E.errno_to_net(exc.errno or 0))
            return
        if join:
            s.groups.append(normalized)
        else:
            s.groups.remove(normalized)
        self._app._complete(callback, (0,))

    def setMulticastTimeToLive(self, socketId: int, ttl: int, callback: Callback = None) -> None:
        """Set the multicast TTL (0..255) used once the socket is bound; only before the first
        bind attempt (-23 after).  ``callback(0)`` or ``callback(code)``."""
        check_socket_id(socketId)
        check_int(ttl, "ttl")
        check_callback(callback)
        self._loop.submit(self._set_option, socketId, "ttl", ttl, callback)

    def setMulticastLoopbackMode(self, socketId: int, enabled: bool, callback: Callback = None) -> None:
        """Whether multicast sent by this socket loops back to local listeners (default on);
        only before the first bind attempt (-23 after).  ``callback(0)``."""
        check_socket_id(socketId)
        check_bool(enabled, "enabled")
        check_callback(callback)
        self._loop.submit(self._set_option, socketId, "loop", enabled, callback)

    def _set_option(self, socket_id: int, which: str, value: Any, callback: Callback) -> None:
        s = self._lookup(socket_id, callback, (None,))
        if s is None:
            return
        if not s.options_open:
            self._fail(callback, E.ERR_SOCKET_IS_CONNECTED)
            return
        if which == "ttl":
            if not 0 <= value <= 255:
                self._fail(callback, E.ERR_INVALID_ARGUMENT)
                return
            s.mc_ttl = value
        else:
            s.mc_loop = value
        self._app._complete(callback, (0,))

    def getJoinedGroups(self, socketId: int, callback: Callback = None) -> None:
        """``callback([group, ...])`` in join order (needs the multicastMembership permission)."""
        check_socket_id(socketId)
        check_callback(callback)
        self._loop.submit(self._get_joined_groups, socketId, callback)

    def _get_joined_groups(self, socket_id: int, callback: Callback) -> None:
        s = self._lookup(socket_id, callback, (None,))
        if s is None:
            return
        if not self._app._allowed("udp.multicastMembership", "*", 0):
            self._app._complete(callback, (None,), DENIED_UDP)
            return
        self._app._complete(callback, (list(s.groups),))

    def setBroadcast(self, socketId: int, enabled: bool, callback: Callback = None) -> None:
        """Allow sending to broadcast addresses.  ``callback(0)``; -15 if not bound."""
        check_socket_id(socketId)
        check_bool(enabled, "enabled")
        check_callback(callback)
        self._loop.submit(self._set_broadcast, socketId, enabled, callback)

    def _set_broadcast(self, socket_id: int, enabled: bool, callback: Callback) -> None:
        s = self._lookup(socket_id, callback, (None,))
        if s is None:
            return
        if not s.bound or s.sock is None:
            self._fail(callback, E.ERR_SOCKET_NOT_CONNECTED)
            return
        try:
            s.sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, int(enabled))
        except OSError as exc:
            self._fail(callback, E.errno_to_net(exc.errno or 0))
            return
        self._app._complete(callback, (0,))

    # -- PEP 8 aliases (the same function objects) ------------------------------------------------

    set_paused = setPaused
    get_info = getInfo
    get_sockets = getSockets
    join_group = joinGroup
    leave_group = leaveGroup
    set_multicast_time_to_live = setMulticastTimeToLive
    set_multicast_loopback_mode = setMulticastLoopbackMode
    get_joined_groups = getJoinedGroups
    set_broadcast = setBroadcast
