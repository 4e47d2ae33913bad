# _recv.pxi - the UDP receive path (included by _sockcore.pyx).

@cython.freelist(512)
@cython.final
@cython.no_gc  # holds at most a bytes object: cannot be part of a reference cycle
cdef class RecvView:
    """A read-only, zero-copy view of one received datagram.

    It supports the buffer protocol (``memoryview(view)``, ``bytes(view)``, ``view == b"..."``,
    ``socket.send(view)``, ``bytearray += view``), ``len()``, indexing and slicing (which copy).

    Lifetime: the bytes live in a receive slot of the socket's buffer pool and stay valid and
    unchanged for as long as this object (or a memoryview of it) is referenced, also after the
    listener returned, after the socket was closed and after its bufferSize changed.  A slot is
    recycled only when its last view is gone; keeping many views alive therefore keeps their
    slots out of the pool (the pool then grows, and past its limit the receiver copies into
    ``bytes`` instead and counts it in ``stats()["copies"]``).
    """
    cdef fs_slot_t *_slot
    cdef const unsigned char *_ptr
    cdef Py_ssize_t _len
    cdef object _owner

    def __dealloc__(self):
        if self._slot != NULL:
            fs_slot_release(self._slot)
            self._slot = NULL

    def __getbuffer__(self, Py_buffer *buf, int flags):
        PyBuffer_FillInfo(buf, self, <void *>self._ptr, self._len, 1, flags)

    def __releasebuffer__(self, Py_buffer *buf):
        pass

    def __len__(self):
        return self._len

    def __bytes__(self):
        return PyBytes_FromStringAndSize(<const char *>self._ptr, self._len)

    def tobytes(self):
        """A copy of the datagram as ``bytes``."""
        return PyBytes_FromStringAndSize(<const char *>self._ptr, self._len)

    def __getitem__(self, index):
        # An int gives the byte value; a slice gives a memoryview that keeps this view alive.
        return memoryview(self)[index]

    def __eq__(self, other):
        try:
            return memoryview(other).cast("B") == memoryview(self)
        except TypeError:
            return NotImplemented

    def __ne__(self, other):
        r = self.__eq__(other)
        return r if r is NotImplemented else not r

    __hash__ = None

    def __repr__(self):
        if self._len <= 32:
            return "RecvView(%r)" % (self.tobytes(),)
        return "RecvView(%r... %d bytes)" % (
            PyBytes_FromStringAndSize(<const char *>self._ptr, 32), self._len)


cdef inline RecvView _view_of_slot(fs_slot_t *slot, Py_ssize_t length):
    cdef RecvView v = RecvView.__new__(RecvView)
    fs_slot_ref(slot)
    v._slot = slot
    v._ptr = slot.data
    v._len = length
    return v


cdef inline RecvView _view_of_bytes(bytes data):
    cdef RecvView v = RecvView.__new__(RecvView)
    v._owner = data
    v._ptr = <const unsigned char *><char *>data
    v._len = len(data)
    return v


@cython.final
cdef class Listeners:
    """The listeners of one event as an immutable tuple, rebuilt on add/remove so dispatch
    iterates a snapshot without locking.  The Python ``Event`` class wraps one of these."""
    cdef public tuple items

    def __cinit__(self):
        self.items = ()


cdef object _call_listeners(Loop loop, tuple items, object info, str what):
    """Call every listener with ``info``; an exception is reported and the next one runs."""
    cdef PyObject *r
    for fn in items:
        r = PyObject_CallOneArg(<PyObject *>fn, <PyObject *>info)
        if r == NULL:
            loop._handle_exception("exception in %s listener %r" % (what, fn), _take_exception())
        else:
            Py_DECREF(r)


# Defaults chosen in hot-path.md: 64 messages per recvmmsg, 4 batches per wake-up.
DEFAULT_BATCH = 64
DEFAULT_BUDGET = 256


@cython.final
cdef class UdpReceiver(IOHandler):
    """The receive side of one UDP socket: recvmmsg into pool slots, one ``onReceive`` payload
    ``{"socketId", "data", "remoteAddress", "remotePort"}`` per datagram, each passed to every
    listener of ``listeners``.

    ``on_error(errno)`` is called (with the loop's GIL held, from inside dispatch) when the socket
    reports an error or a datagram is larger than the buffer size (``EMSGSIZE``); the datagram is
    dropped and the caller is expected to pause the receiver.  Datagrams already read from the
    kernel but not yet delivered when the receiver is paused are kept and delivered first after
    :meth:`start`; nothing read is ever dropped except by :meth:`close`.

    Per wake-up at most ``budget`` datagrams are read (in batches of ``batch`` messages), so one
    flooded socket cannot starve the others: the level-triggered loop comes back for the rest.

    The receiver owns the socket's registration with the loop, so it also relays writability:
    while :meth:`want_writable` is on, ``on_writable()`` is called when the socket can send.
    """
    cdef Loop loop
    cdef object sock
    cdef int fd
    cdef object socket_id
    cdef Listeners listeners
    cdef object on_error
    cdef object on_writable
    cdef bint want_write
    cdef fs_udp_batch_t batch
    cdef fs_bufpool_t *pool
    cdef size_t buffer_size
    cdef size_t pool_max_bytes
    cdef unsigned batch_size
    cdef unsigned budget
    cdef unsigned pos
    cdef bint active
    cdef bint watching
    cdef bint closed
    cdef uint64_t pending_timer
    cdef unsigned char *scratch
    # sender cache: the last sockaddr seen and its Python objects
    cdef unsigned char last_sa[28]
    cdef int last_sa_len
    cdef object last_addr
    cdef object last_port
    # {"socketId", "data": None, "remoteAddress", "remotePort"} for the last sender: a payload
    # is a copy of it with "data" replaced, which costs a quarter of building a fresh dict.
    cdef dict template
    # statistics
    cdef uint64_t n_received
    cdef uint64_t n_copies
    cdef uint64_t n_truncated
    cdef uint64_t n_batches

    def __cinit__(self):
        memset(&self.batch, 0, sizeof(self.batch))
        self.pool = NULL
        self.scratch = NULL
        self.fd = -1

    def __init__(self, Loop loop not None, sock, socket_id, Listeners listeners not None,
                 on_error, size_t buffer_size, unsigned batch=DEFAULT_BATCH,
                 unsigned budget=DEFAULT_BUDGET, size_t pool_max_bytes=64 << 20,
                 on_writable=None):
        if batch < 1 or batch > 1024:
            raise ValueError("batch must be between 1 and 1024")
        if budget < 1:
            raise ValueError("budget must be at least 1")
        if not callable(on_error):
            raise TypeError("on_error must be callable")
        self.loop = loop
        self.sock = sock
        self.fd = sock.fileno()
        self.socket_id = socket_id
        self.listeners = listeners
        self.on_error = on_error
        self.on_writable = on_writable
        self.batch_size = batch
        self.budget = budget
        self.pool_max_bytes = pool_max_bytes
        _check(fs_udp_batch_init(&self.batch, batch))
        self._new_pool(buffer_size)

    def __dealloc__(self):
        fs_udp_batch_free(&self.batch)
        if self.pool != NULL:
            fs_bufpool_close(self.pool)
            self.pool = NULL
        if self.scratch != NULL:
            free(self.scratch)
            self.scratch = NULL

    cdef int _new_pool(self, size_t buffer_size) except -1:
        cdef fs_bufpool_t *pool = NULL
        cdef unsigned char *scratch
        if buffer_size < 1:
            buffer_size = 1
        _check(fs_bufpool_new(&pool, buffer_size, max(self.pool_max_bytes, buffer_size),
                              self.batch_size * 2))
        scratch = <unsigned char *>malloc(buffer_size)
        if scratch == NULL:
            fs_bufpool_close(pool)
            raise MemoryError()
        if self.pool != NULL:
            # Slots of the old pool stay with the batch until the next receive, and with the
            # user's views for as long as they live.
            fs_bufpool_close(self.pool)
        if self.scratch != NULL:
            free(self.scratch)
        self.pool = pool
        self.scratch = scratch
        self.buffer_size = buffer_size
        return 0

    def set_buffer_size(self, size_t buffer_size):
        """Use ``buffer_size``-byte slots from the next receive call on (Chrome: "takes effect on
        the next read").  Views of earlier datagrams are unaffected."""
        if self.closed:
            return
        if buffer_size != self.buffer_size:
            self._new_pool(buffer_size)

    @property
    def buffer_size(self):
        return self.buffer_size

    @property
    def active(self):
        return self.active

    @property
    def pending(self):
        """Datagrams read from the kernel and not delivered yet (held while paused)."""
        return self.batch.count - self.pos if self.batch.count > self.pos else 0

    def start(self):
        """Start (or resume) receiving: watch the socket, and deliver held datagrams at the next
        loop iteration (never from inside this call)."""
        if self.closed or self.active:
            return
        self.active = True
        self._update_mask()
        if self.pos < self.batch.count and self.pending_timer == 0:
            self.pending_timer = self.loop.call_later(0, self._deliver_held)

    def stop(self):
        """Pause receiving.  Takes effect immediately, also for the rest of a batch that is being
        dispatched (the undelivered datagrams are held, not dropped)."""
        if not self.active:
            return
        self.active = False
        self._update_mask()
        if self.pending_timer:
            self.loop.cancel_timer(self.pending_timer)
            self.pending_timer = 0

    cdef int _update_mask(self) except -1:
        cdef int mask = 0
        if self.closed:
            return 0
        if self.active:
            mask |= FS_READABLE
        if self.want_write:
            mask |= FS_WRITABLE
        if not self.watching:
            if mask == 0:
                return 0
            self.loop.watch(self.fd, mask, self)
            self.watching = True
        else:
            self.loop.set_mask(self.fd, mask)
        return 0

    def want_writable(self, bint on):
        """Call ``on_writable()`` whenever the socket is writable (``on``), or stop doing so."""
        if self.closed or on == self.want_write:
            return
        if on and self.on_writable is None:
            raise RuntimeError("no on_writable callback")
        self.want_write = on
        self._update_mask()

    def close(self):
        """Stop for good: unwatch the fd and drop held datagrams.  Does not close the socket;
        views already handed out stay valid.  Idempotent."""
        if self.closed:
            return
        self.stop()
        self.want_write = False
        self.closed = True
        if self.watching:
            self.loop.unwatch(self.fd)
            self.watching = False
        fs_udp_batch_free(&self.batch)
        self.pos = 0
        if self.pool != NULL:
            fs_bufpool_close(self.pool)
            self.pool = NULL
        self.sock = None
        self.on_writable = None
        self.on_error = None

    def stats(self):
        """Counters of this receiver and its current pool."""
        cdef fs_bufpool_stats_t st
        memset(&st, 0, sizeof(st))
        if self.pool != NULL:
            fs_bufpool_stats(self.pool, &st)
        return {
            "received": self.n_received,
            "copies": self.n_copies,
            "truncated": self.n_truncated,
            "batches": self.n_batches,
            "held": self.pending,
            "slot_size": st.slot_size,
            "slots_in_use": st.in_use,
            "slots_cached": st.cached,
            "slots_allocated": st.allocated,
            "pool_exhausted": st.exhausted,
        }

    def _deliver_held(self):
        self.pending_timer = 0
        if self.active:
            self._dispatch()
            if self.active and self.pos >= self.batch.count and self.batch.count:
                fs_udp_batch_recycle(&self.batch)
                self.pos = 0

    cdef int _on_io(self, int fd, int mask) except -1:
        cdef unsigned remaining = self.budget
        cdef unsigned want
        cdef int n
        if mask & FS_WRITABLE and self.want_write:
            try:
                self.on_writable()
            except BaseException as exc:
                self.loop._handle_exception("exception in UDP writable handler", exc)
            if not (mask & FS_READABLE):
                return 0
        while self.active:
            if self.pos < self.batch.count:
                self._dispatch()
                continue
            if self.batch.count:
                fs_udp_batch_recycle(&self.batch)
                self.pos = 0
            if remaining == 0:
                break
            want = self.batch_size if self.batch_size < remaining else remaining
            n = fs_udp_batch_recv(&self.batch, self.fd, self.pool, want)
            if n > 0:
                self.n_batches += 1
                remaining -= <unsigned>n
                self._dispatch()
                if <unsigned>n < want:
                    break  # the socket is (almost surely) empty: spare the EAGAIN syscall
            elif n == 0:
                break
            elif n == -ENOBUFS:
                # Every slot is retained by the user and the pool is at its limit: copy.
                self._receive_copy()
                remaining -= 1
            else:
                self._fail(-n)
                break
        if self.pos >= self.batch.count and self.batch.count:
            fs_udp_batch_recycle(&self.batch)
            self.pos = 0
        return 0

    cdef int _fail(self, int err) except -1:
        # on_error pauses us (through the API layer) and fires onReceiveError.
        if self.on_error is None:
            return 0
        try:
            self.on_error(err)
        except BaseException as exc:
            self.loop._handle_exception("exception in UDP error handler", exc)
        return 0

    cdef int _address(self, sockaddr_storage *sa) except -1:
        """(address str, port int) of a sender, cached for the last sender seen."""
        cdef int salen
        cdef char text[64]
        cdef sockaddr_in *s4
        cdef sockaddr_in6 *s6
        if sa.ss_family == AF_INET:
            salen = sizeof(sockaddr_in)
        elif sa.ss_family == AF_INET6:
            salen = sizeof(sockaddr_in6)
        else:
            self.last_sa_len = 0
            self.last_addr = ""
            self.last_port = 0
            self.template = {"socketId": self.socket_id, "data": None,
                             "remoteAddress": "", "remotePort": 0}
            return 0
        if salen == self.last_sa_len and memcmp(sa, self.last_sa, salen) == 0:
            return 0
        if sa.ss_family == AF_INET:
            s4 = <sockaddr_in *>sa
            inet_ntop(AF_INET, &s4.sin_addr, text, sizeof(text))
            port = ntohs(s4.sin_port)
        else:
            s6 = <sockaddr_in6 *>sa
            inet_ntop(AF_INET6, &s6.sin6_addr, text, sizeof(text))
            port = ntohs(s6.sin6_port)
        memcpy(self.last_sa, sa, salen)
        self.last_sa_len = salen
        self.last_addr = text.decode("ascii")
        self.last_port = port
        self.template = {"socketId": self.socket_id, "data": None,
                         "remoteAddress": self.last_addr, "remotePort": port}
        return 0

    cdef int _dispatch(self) except -1:
        """Deliver datagrams pos..count-1 while active."""
        cdef unsigned i
        cdef fs_udp_batch_t *b = &self.batch
        cdef object data
        cdef dict info
        cdef tuple items
        while self.pos < b.count and self.active:
            i = self.pos
            self.pos = i + 1
            if b.flags[i] & FS_DGRAM_TRUNC:
                self.n_truncated += 1
                self._fail(EMSGSIZE)
                continue
            self.n_received += 1
            items = self.listeners.items
            if not items:
                continue  # Chrome: no listener, the event is dropped (the data too)
            self._address(&b.addrs[i])
            info = PyDict_Copy(self.template)
            info["data"] = _view_of_slot(b.slots[i], b.lens[i])
            _call_listeners(self.loop, items, info, "onReceive")
        return 0

    cdef int _receive_copy(self) except -1:
        cdef uint32_t length = 0
        cdef uint8_t flags = 0
        cdef sockaddr_storage sa
        cdef int rc = fs_udp_recv_copy(self.fd, self.scratch, self.buffer_size, &length, &flags, &sa)
        if rc == 0:
            return 0
        if rc < 0:
            self._fail(-rc)
            return 0
        if flags & FS_DGRAM_TRUNC:
            self.n_truncated += 1
            self._fail(EMSGSIZE)
            return 0
        self.n_received += 1
        self.n_copies += 1
        items = self.listeners.items
        if not items:
            return 0
        self._address(&sa)
        info = PyDict_Copy(self.template)
        info["data"] = _view_of_bytes(PyBytes_FromStringAndSize(<char *>self.scratch, length))
        _call_listeners(self.loop, items, info, "onReceive")
        return 0
