package ptrace

import (
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// The tracing thread's work: waiting for the programs' stops and handling
// each — a call's entry (the filter's stop) and exit, a new thread or
// process, an exec, a signal on its way, an exit.

// wait reaps, while the tracing thread sleeps, the stops and exits of
// every traced thread and hands them over. The kernel lets any thread of
// the tracer's process wait for its tracees; only the ptrace requests must
// come from the tracing thread. It waits only when armed: the tracing
// thread first looks for stops itself (see loop).
func (s *Session) wait() {
	for {
		select {
		case <-s.arm:
		case <-s.done:
			return
		}
		for {
			var ws unix.WaitStatus
			tid, err := unix.Wait4(-1, &ws, unix.WALL, nil)
			if err == unix.EINTR {
				continue
			}
			if err == unix.ECHILD {
				// No child left: the tracing thread checks that it has
				// none in its books either (see lost), then this waits
				// for the next launch.
				select {
				case s.stops <- waitStop{err: err}:
				case <-s.done:
					return
				}
				select {
				case <-s.kids: // launched since: wait again
					continue
				case <-s.done:
					return
				}
			}
			select {
			case s.stops <- waitStop{tid: tid, status: ws, err: err}:
			case <-s.done:
				return
			}
			break
		}
	}
}

// spinFor is how long the tracing thread looks for the next stop itself
// before it sleeps and lets wait look: a program under trace usually
// stops again within microseconds (a call's exit, its next call), and
// handing each stop from one thread to another cost about 100 µs a stop
// on this project's 2-core machine, three times what strace pays.
const spinFor = 50 * time.Microsecond

// loop is the tracing thread.
func (s *Session) loop(isolated chan<- error) {
	runtime.LockOSThread() // for good: this thread is the tracer
	if s.opts.Isolate {
		// The thread is locked for good: if isolate fails half-way, the
		// runtime ends the thread with this goroutine.
		if err := isolate(); err != nil {
			isolated <- err
			return
		}
	}
	isolated <- nil
	armed := false
	for {
		if !armed && !s.poll() {
			armed = true
			s.arm <- struct{}{}
		}
		if armed {
			select {
			case f := <-s.reqs:
				f()
			case w := <-s.stops:
				switch w.err {
				case nil:
					armed = false
					s.handle(w.tid, w.status)
				case unix.ECHILD:
					// wait stays armed: it waits for the next launch.
					s.lost()
				default:
					armed = false
				}
			}
		}
		if len(s.programs) > 0 && s.live == 0 && len(s.threads) == 0 {
			s.finish()
			return
		}
	}
}

// poll looks for a stop for a moment (spinFor), serving requests
// meanwhile, and handles it; it reports whether it found one.
func (s *Session) poll() bool {
	deadline := time.Now().Add(spinFor)
	for {
		select {
		case f := <-s.reqs:
			f()
		default:
		}
		var ws unix.WaitStatus
		tid, err := unix.Wait4(-1, &ws, unix.WALL|unix.WNOHANG, nil)
		if err == nil && tid > 0 {
			s.handle(tid, ws)
			return true
		}
		if err != nil && err != unix.EINTR || time.Now().After(deadline) {
			return false
		}
		// Let the kernel run the traced program on this CPU if it waits
		// for one. Not runtime.Gosched: on this locked thread it hands
		// the P to another thread and back, two futex wake-ups a turn —
		// a third of the tracer's time in a connection loop's profile.
		unix.Syscall(unix.SYS_SCHED_YIELD, 0, 0, 0)
	}
}

// lost forgets the threads in the books when the kernel says the session
// has no child left: their ends can no longer come, and waiting for them
// would hang the session. The check is made again here, on the tracing
// thread, because a launch may have made a child since wait asked.
// Nothing should be lost (newThread does not add a thread that has
// already ended); this is what keeps a mistake from hanging.
func (s *Session) lost() {
	if len(s.threads) == 0 {
		return
	}
	var ws unix.WaitStatus
	switch tid, err := unix.Wait4(-1, &ws, unix.WALL|unix.WNOHANG, nil); {
	case err == nil && tid > 0:
		s.handle(tid, ws) // a stop of the launch's child: not to be dropped
		return
	case err != unix.ECHILD:
		return
	}
	for _, t := range s.threads {
		if t.tid != t.proc.pid {
			delete(s.threads, t.tid)
		}
	}
	for _, t := range s.threads {
		s.gone(t, lostStatus)
	}
}

// lostStatus stands for the status of a thread lost track of: no real
// status has every bit set.
const lostStatus = unix.WaitStatus(^uint32(0))

// resume lets thread tid go on, with sig delivered if not 0. With the
// filter, it runs until the filter stops it; without (Options.NoFilter),
// until its next call's entry or exit, as strace without --seccomp-bpf.
func (s *Session) resume(tid, sig int) {
	if s.opts.NoFilter {
		unix.PtraceSyscall(tid, sig)
		return
	}
	unix.PtraceCont(tid, sig)
}

// handle is one stop or exit of thread tid.
func (s *Session) handle(tid int, ws unix.WaitStatus) {
	t := s.threads[tid]
	if t == nil {
		t = s.adoptThread(tid)
		if t == nil {
			return
		}
	}
	switch {
	case ws.Exited() || ws.Signaled():
		s.gone(t, ws)
		return
	case !ws.Stopped():
		return
	}
	sig := ws.StopSignal()
	if !t.optionsSet && t.starting {
		// The launched helper's first stop, after its exec under
		// PTRACE_TRACEME: from now on, follow its children and stop at
		// the filter's calls.
		t.optionsSet = true
		unix.PtraceSetOptions(tid, unix.PTRACE_O_TRACESYSGOOD|unix.PTRACE_O_TRACESECCOMP|
			unix.PTRACE_O_TRACEFORK|unix.PTRACE_O_TRACEVFORK|unix.PTRACE_O_TRACECLONE|
			unix.PTRACE_O_TRACEEXEC|unix.PTRACE_O_TRACEEXIT|unix.PTRACE_O_EXITKILL)
		s.resume(tid, 0)
		return
	}
	switch {
	case sig == unix.SIGTRAP|0x80:
		s.syscallStop(t)
	case sig == unix.SIGTRAP && ws.TrapCause() == unix.PTRACE_EVENT_SECCOMP:
		s.entry(t, syscallInfoSeccomp)
	case sig == unix.SIGTRAP && (ws.TrapCause() == unix.PTRACE_EVENT_FORK || ws.TrapCause() == unix.PTRACE_EVENT_VFORK || ws.TrapCause() == unix.PTRACE_EVENT_CLONE):
		if msg, err := unix.PtraceGetEventMsg(tid); err == nil {
			s.newThread(int(msg), t)
		}
		s.resume(tid, 0)
	case sig == unix.SIGTRAP && ws.TrapCause() == unix.PTRACE_EVENT_EXEC:
		if former, err := unix.PtraceGetEventMsg(tid); err == nil && int(former) != tid {
			delete(s.threads, int(former))
		}
		t.starting = false
		if elfClass(tid) == 1 {
			// The filter lets another architecture's calls through: a
			// 32-bit program runs untraced.
			s.programs[t.proc.program].untraced32 = true
		}
		s.resume(tid, 0)
	case sig == unix.SIGTRAP && ws.TrapCause() == unix.PTRACE_EVENT_EXIT:
		if t.tid == t.proc.pid {
			s.exiting(t.proc)
		}
		s.resume(tid, 0)
	case sig == unix.SIGSTOP && t.fresh:
		t.fresh = false
		s.resume(tid, 0)
	default:
		// A signal on its way to the program: let it through. (A group
		// stop, which has no siginfo, is resumed: under this kind of
		// tracing a stopped program cannot be told apart from a stop.)
		var info unix.Siginfo
		if err := ptraceGetSiginfo(tid, &info); err != nil {
			s.resume(tid, 0)
			return
		}
		s.signaled[pidSignal{t.proc.pid, sig}] = time.Now()
		s.resume(tid, int(sig))
	}
}

// adoptThread makes a thread known whose first stop came before its
// parent's fork event.
func (s *Session) adoptThread(tid int) *thread {
	tgid := readTgid(tid)
	if tgid == 0 {
		return nil
	}
	if leader := s.threads[tgid]; leader != nil && tgid != tid {
		t := &thread{tid: tid, proc: leader.proc, fresh: true, optionsSet: true}
		s.threads[tid] = t
		return t
	}
	if p := s.model.procs[tgid]; p != nil {
		t := &thread{tid: tid, proc: p, fresh: true, optionsSet: true}
		s.threads[tid] = t
		return t
	}
	// A new process whose parent's event is still to come: its parent is
	// the process named in its status.
	parent := s.model.procs[readPPid(tid)]
	if parent == nil {
		return nil
	}
	p := s.model.forked(tid, parent, parent.program, "")
	t := &thread{tid: tid, proc: p, fresh: true, optionsSet: true}
	s.threads[tid] = t
	return t
}

// newThread records the thread or process tid that t's fork, vfork or
// clone made.
func (s *Session) newThread(tid int, t *thread) {
	if s.threads[tid] != nil {
		return // its first stop came first
	}
	tgid := readTgid(tid)
	if tgid == 0 {
		// Its first stop, its run and its end all came before this event
		// of its maker's (a shell's short subshell can): it is gone.
		return
	}
	proc := t.proc
	if tgid != t.proc.pid {
		proc = s.model.forked(tid, t.proc, t.proc.program, "")
	}
	// A thread of socklab's own start-up code (starting) ends at the
	// exec; its options are its parent's.
	s.threads[tid] = &thread{tid: tid, proc: proc, starting: t.starting, fresh: true, optionsSet: true}
	if proc != t.proc {
		s.threads[tid].box = t.box // a fork's copy of its maker's memory: the same mailbox
	}
}

// entry is a thread stopped at the entry of a call: by the filter
// (syscallInfoSeccomp), or without one at every call (syscallInfoEntry).
func (s *Session) entry(t *thread, op uint8) {
	info, err := syscallInfo(t.tid)
	if err != nil || t.starting || info.op != op {
		s.resume(t.tid, 0)
		return
	}
	// Without the filter, the same choice as the filter's.
	c := s.arch.callOf(info.nr)
	if info.arch != s.arch.audit || c == nil || !c.traced(info.args) {
		s.resume(t.tid, 0)
		return
	}
	if c.notice {
		// Noticed at its exit, if it succeeded.
		t.noticing = true
		unix.PtraceSyscall(t.tid, 0)
		return
	}
	if t.announced(c, info.args) {
		s.resume(t.tid, 0) // a Python thread's mailbox (source.go)
		return
	}
	pc := s.model.enter(t.proc, c, info.args)
	t.source(pc)
	released := s.model.takeReleased()
	if pc == nil || !pc.show || !s.opts.Stepped {
		for i := range released {
			s.model.showHeld(&released[i])
		}
		if pc == nil {
			s.resume(t.tid, 0)
			return
		}
		s.admitted(t, pc, nil)
		return
	}
	// A person paces the run: ask the gate off this thread, which goes on
	// serving the other programs' stops meanwhile. The calls held until
	// this one said what the socket is for (its socket, its bind) come
	// first, each through the gate: the program waits at this call.
	peer := s.model.peerOf(pc.p, pc.sock.role)
	e := pc.e
	program := pc.p.program
	s.gated[program]++
	go func() {
		for i := range released {
			h := &released[i]
			b := h.begin
			if err := h.peer.Admit(&b); err != nil {
				s.send(func() { s.gated[program]--; s.admitted(t, pc, err) })
				return
			}
			s.send(func() { s.model.showHeld(h) })
		}
		err := peer.Admit(&e)
		select {
		case s.reqs <- func() { s.gated[program]--; s.admitted(t, pc, err) }:
		case <-s.done:
		}
	}()
}

// send runs f on the tracing thread, unless the session has ended.
func (s *Session) send(f func()) {
	select {
	case s.reqs <- f:
	case <-s.done:
	}
}

// admitted lets a call that was entered go on into the kernel.
func (s *Session) admitted(t *thread, pc *pending, err error) {
	if s.threads[t.tid] != t {
		return // gone meanwhile
	}
	if err != nil {
		// The person stopped the run: no call is made after that.
		s.killAll()
		return
	}
	s.model.begin(pc)
	t.inCall = pc
	pc.resumed = time.Now()
	unix.PtraceSyscall(t.tid, 0)
}

// syscallStop is a syscall stop: the exit of a call admitted before or,
// without the filter, any call's entry or exit.
func (s *Session) syscallStop(t *thread) {
	if t.noticing {
		t.noticing = false
		if info, err := syscallInfo(t.tid); err == nil && info.op == syscallInfoExit && info.rval >= 0 {
			s.programs[t.proc.program].ioUring = true
		}
		s.resume(t.tid, 0)
		return
	}
	if s.opts.NoFilter && t.inCall == nil {
		s.entry(t, syscallInfoEntry)
		return
	}
	pc := t.inCall
	t.inCall = nil
	if pc == nil {
		s.resume(t.tid, 0)
		return
	}
	elapsed := time.Since(pc.resumed)
	info, err := syscallInfo(t.tid)
	if err != nil || info.op != syscallInfoExit {
		s.resume(t.tid, 0)
		return
	}
	signal := ""
	if info.rval <= -512 && info.rval >= -516 {
		signal = pendingSignal(t.tid)
	}
	s.model.exit(pc, info.rval, signal, elapsed)
	s.resume(t.tid, 0)
}

// exiting is a process's exit stop, before the kernel closes its
// descriptors: the shown sockets it still holds are closed by its exit.
func (s *Session) exiting(p *process) {
	dir := "/proc/" + strconv.Itoa(p.pid) + "/fd"
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, ent := range entries {
		fd, err := strconv.Atoi(ent.Name())
		if err != nil {
			continue
		}
		ino, ok := s.model.k.inode(p.pid, fd)
		if !ok {
			continue
		}
		sk := s.model.socks[ino]
		if sk == nil || sk.state != shown || p.peers[sk.role] == nil {
			continue
		}
		peer := p.peers[sk.role]
		s.mu.Lock()
		s.open = append(s.open, LeftOpen{Peer: peer.Name(), PID: p.pid, FD: fd, Kind: sk.kind, Listening: sk.listening})
		s.mu.Unlock()
	}
}

// gone is a thread's end.
func (s *Session) gone(t *thread, ws unix.WaitStatus) {
	delete(s.threads, t.tid)
	if t.tid != t.proc.pid {
		return
	}
	s.model.exited(t.proc.pid)
	if fd, ok := s.pidfds[t.proc.pid]; ok {
		unix.Close(fd)
		delete(s.pidfds, t.proc.pid)
	}
	if t.proc.parent != nil {
		return
	}
	prog := s.programs[t.proc.program]
	exit := Exit{PID: t.proc.pid, Argv: prog.prog.Argv, Program: t.proc.program, Shown: s.model.shown[t.proc.program], Killed: s.killed, Untraced32: prog.untraced32, IOUring: prog.ioUring}
	switch {
	case ws == lostStatus:
		exit.Lost, exit.Code = true, 1
	case ws.Exited():
		exit.Code = ws.ExitStatus()
	default:
		exit.Signal = ws.Signal()
		exit.Code = 128 + int(ws.Signal())
	}
	s.mu.Lock()
	prog.exit = &exit
	s.mu.Unlock()
	s.live--
	if s.opts.Exited != nil {
		s.opts.Exited(exit)
	}
}

// pendingSignal names the signal waiting to be delivered to tid (from
// /proc/TID/status), the one that interrupted its call.
func pendingSignal(tid int) string {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(tid) + "/status")
	if err != nil {
		return "a signal"
	}
	var mask uint64
	for _, line := range strings.Split(string(data), "\n") {
		for _, key := range []string{"SigPnd:", "ShdPnd:"} {
			if v, ok := strings.CutPrefix(line, key); ok {
				m, _ := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
				mask |= m
			}
		}
	}
	for sig := 1; sig <= 64; sig++ {
		if mask&(1<<(sig-1)) != 0 {
			if name := unix.SignalName(syscall.Signal(sig)); name != "" {
				return name
			}
			return "signal " + strconv.Itoa(sig)
		}
	}
	return "a signal"
}

// elfClass is the ELF class of the program tid runs: 1 for 32-bit, 2 for
// 64-bit, 0 when unknown.
func elfClass(tid int) int {
	f, err := os.Open("/proc/" + strconv.Itoa(tid) + "/exe")
	if err != nil {
		return 0
	}
	defer f.Close()
	var head [5]byte
	if _, err := io.ReadFull(f, head[:]); err != nil || string(head[:4]) != "\x7fELF" {
		return 0
	}
	return int(head[4])
}

func readTgid(tid int) int { return statusField(tid, "Tgid:") }

func readPPid(tid int) int { return statusField(tid, "PPid:") }

func statusField(tid int, key string) int {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(tid) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, key); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(v))
			return n
		}
	}
	return 0
}
