# socklab's sitecustomize: socklab trace puts the directory of this file
# first on PYTHONPATH, so every Python program it traces imports it at
# start-up. For each socket call, it writes the line of the program that
# made it (the first frame outside the standard library) into a per-thread
# mailbox, whose address it announced once with write(-1, "M <addr> <size>")
# (that write fails with EBADF, harmlessly; socklab reads its buffer at
# the stop). socklab reads the mailbox at each socket call's stop and
# shows the line under the call. It clears the mailbox when the call
# returns, so a later call never inherits a stale line.
# python3 -I, -E or -S, and cProfile (which replaces the profile hook),
# defeat it: the trace then has no source lines.
import os
import sys


def _install():
    import ctypes
    import linecache
    import select
    import sysconfig
    import threading
    import _socket

    size = 256
    local = threading.local()
    here = os.path.dirname(os.path.abspath(__file__))
    skip = tuple({sysconfig.get_paths()[k] for k in ('stdlib', 'platstdlib')}) + (here, '<frozen')
    kinds = (_socket.socket,) + tuple(getattr(select, k) for k in ('epoll', 'poll') if isinstance(getattr(select, k, None), type))

    def box():
        b = getattr(local, 'box', None)
        if b is None:
            b = local.box = ctypes.create_string_buffer(size)
            try:
                os.write(-1, b'M %x %d' % (ctypes.addressof(b), size))
            except OSError:
                pass
        return b

    def label(frame):
        while frame is not None and frame.f_code.co_filename.startswith(skip):
            frame = frame.f_back
        if frame is None:
            return
        name, n = frame.f_code.co_filename, frame.f_lineno
        text = linecache.getline(name, n).strip()
        data = ('%s\0%d\0%s' % (name, n, text)).encode('utf-8', 'replace')[:size - 1] + b'\0'
        ctypes.memmove(box(), data, len(data))
        local.on = True

    def clear():
        if getattr(local, 'on', False):
            local.box[0] = b'\0'
            local.on = False

    def is_socket(obj):
        return isinstance(obj, kinds)

    mon = getattr(sys, 'monitoring', None)
    if mon is not None:  # 3.12+: the cheapest, all threads
        tool = 4
        try:
            mon.use_tool_id(tool, 'socklab')
        except ValueError:
            return
        E = mon.events

        def on_call(code, offset, func, arg0):
            if is_socket(arg0) or is_socket(getattr(func, '__self__', None)):
                label(sys._getframe(1))
                return None
            if code.co_filename.startswith(skip):
                return None  # a library's call site may call a socket another time
            return mon.DISABLE

        def on_return(code, offset, func, arg0, *rest):
            clear()

        mon.register_callback(tool, E.CALL, on_call)
        mon.register_callback(tool, E.C_RETURN, on_return)
        mon.register_callback(tool, E.C_RAISE, on_return)
        mon.set_events(tool, E.CALL | E.C_RETURN | E.C_RAISE)
        return

    init = _socket.socket.__init__
    import socket
    creating = socket.socket.__init__.__code__

    def profile(frame, event, arg):
        if event == 'c_call':
            if is_socket(getattr(arg, '__self__', None)):
                label(frame)
        elif event == 'c_return' or event == 'c_exception':
            clear()
        elif event == 'call' and frame.f_code is creating:
            label(frame)
        elif event == 'return' and frame.f_code is creating:
            clear()

    del init
    sys.setprofile(profile)
    threading.setprofile(profile)


try:
    _install()
except Exception:  # never let socklab's hook break the program
    pass
del _install

# Chain to the sitecustomize this one shadows (Debian's, in /usr/lib/python3.X).
_here = os.path.dirname(os.path.abspath(__file__))
_path = sys.path[:]
_me = sys.modules.pop('sitecustomize', None)
try:
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or '.') != _here]
    import sitecustomize  # noqa: F401
except ImportError:
    pass
finally:
    sys.path[:] = _path
    if _me is not None:
        sys.modules['sitecustomize'] = _me  # the import system expects this module there
    del _here, _path, _me
