#!/usr/bin/python3
"""A small seccomp agent for the tests: listens on a unix socket as
linux.seccomp.listenerPath, receives the container process state (JSON) with
the notification fd (SCM_RIGHTS), and answers each notified mkdir/mkdirat:
a path whose last component starts with "deny" fails with EOPNOTSUPP, any
other goes ahead (SECCOMP_USER_NOTIF_FLAG_CONTINUE).

Usage: seccomp_agent.py SOCKET OUTDIR
OUTDIR/state-N.json: connection N's message, as received, with "_nfds" (the
number of fds that came with it) added; OUTDIR/notifications.log: one line
"PID SYSCALL PATH allow|deny" per notification. The socket exists once the
agent listens. Ends on SIGTERM."""

import array
import ctypes
import errno
import json
import os
import select
import signal
import socket
import sys
import threading

# <linux/seccomp.h>, x86-64 layouts:
#   struct seccomp_data { int nr; __u32 arch; __u64 instruction_pointer; __u64 args[6]; }  64 bytes
#   struct seccomp_notif { __u64 id; __u32 pid; __u32 flags; struct seccomp_data data; }  80 bytes
#   struct seccomp_notif_resp { __u64 id; __s64 val; __s32 error; __u32 flags; }           24 bytes


class SeccompData(ctypes.Structure):
    _fields_ = [("nr", ctypes.c_int32), ("arch", ctypes.c_uint32),
                ("instruction_pointer", ctypes.c_uint64), ("args", ctypes.c_uint64 * 6)]


class Notif(ctypes.Structure):
    _fields_ = [("id", ctypes.c_uint64), ("pid", ctypes.c_uint32), ("flags", ctypes.c_uint32),
                ("data", SeccompData)]


class NotifResp(ctypes.Structure):
    _fields_ = [("id", ctypes.c_uint64), ("val", ctypes.c_int64), ("error", ctypes.c_int32),
                ("flags", ctypes.c_uint32)]


def _iowr(nr, size):  # _IOWR('!', nr, size)
    return (3 << 30) | (size << 16) | (ord("!") << 8) | nr


NOTIF_RECV = _iowr(0, ctypes.sizeof(Notif))
NOTIF_SEND = _iowr(1, ctypes.sizeof(NotifResp))
NOTIF_ID_VALID = (1 << 30) | (8 << 16) | (ord("!") << 8) | 2  # _IOW('!', 2, __u64)
FLAG_CONTINUE = 1  # SECCOMP_USER_NOTIF_FLAG_CONTINUE
NR_MKDIR, NR_MKDIRAT = 83, 258

libc = ctypes.CDLL(None, use_errno=True)
libc.ioctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p]
log_lock = threading.Lock()


def ioctl(fd, req, obj):
    if libc.ioctl(fd, req, ctypes.byref(obj)) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


def read_path(pid, addr):
    # Page by page: a read running into an unmapped page fails (EIO).
    raw = b""
    with open(f"/proc/{pid}/mem", "rb", buffering=0) as mem:
        while b"\0" not in raw and len(raw) < 4096:
            mem.seek(addr + len(raw))
            raw += mem.read(4096 - (addr + len(raw)) % 4096)
    return raw.split(b"\0", 1)[0].decode(errors="replace")


def answer(fd, outdir):
    req = Notif()
    try:
        ioctl(fd, NOTIF_RECV, req)
    except OSError as e:
        # ENOENT: the task was killed before we got to it.
        return e.errno == errno.ENOENT
    nr = req.data.nr
    if nr in (NR_MKDIR, NR_MKDIRAT):
        path = read_path(req.pid, req.data.args[0 if nr == NR_MKDIR else 1])
    else:
        path = ""
    notif_id = ctypes.c_uint64(req.id)
    try:
        # The memory read above is only trustworthy if the request is still live.
        ioctl(fd, NOTIF_ID_VALID, notif_id)
    except OSError:
        return True
    deny = os.path.basename(path).startswith("deny")
    resp = NotifResp(id=req.id)
    if deny:
        resp.error = -errno.EOPNOTSUPP
    else:
        resp.flags = FLAG_CONTINUE
    with log_lock, open(os.path.join(outdir, "notifications.log"), "a") as f:
        name = {NR_MKDIR: "mkdir", NR_MKDIRAT: "mkdirat"}.get(nr, str(nr))
        f.write(f"{req.pid} {name} {path} {'deny' if deny else 'allow'}\n")
    try:
        ioctl(fd, NOTIF_SEND, resp)
    except OSError:
        pass  # the task died meanwhile
    return True


def serve_notifications(fd, outdir):
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    try:
        while True:
            for _, ev in poller.poll():
                if ev & select.POLLIN:
                    if not answer(fd, outdir):
                        return
                elif ev & (select.POLLHUP | select.POLLERR):
                    return  # every task under the filter is gone
    finally:
        os.close(fd)


def handle(conn, n, outdir):
    fds = array.array("i")
    data = b""
    with conn:
        while True:
            msg, anc, _, _ = conn.recvmsg(1 << 16, socket.CMSG_SPACE(4 * fds.itemsize))
            for level, kind, payload in anc:
                if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                    fds.frombytes(payload[:len(payload) - len(payload) % fds.itemsize])
            if not msg:
                break
            data += msg
    try:
        state = json.loads(data)
    except ValueError:
        state = {"_raw": data.decode(errors="replace")}
    state["_nfds"] = len(fds)
    tmp = os.path.join(outdir, f".state-{n}.json")
    with open(tmp, "w") as f:
        json.dump(state, f)
    os.rename(tmp, os.path.join(outdir, f"state-{n}.json"))
    for extra in fds[1:]:
        os.close(extra)
    if fds:
        serve_notifications(fds[0], outdir)


def main():
    path, outdir = sys.argv[1], sys.argv[2]
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(8)
    n = 0
    while True:
        conn, _ = srv.accept()
        n += 1
        threading.Thread(target=handle, args=(conn, n, outdir), daemon=True).start()


if __name__ == "__main__":
    main()
