package ptrace

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/socklab/socklab/internal/kernelview"
	"github.com/socklab/socklab/trace"
)

// Supported reports whether socklab trace works on this system, and if
// not, why.
func Supported() error {
	if _, ok := arches[runtime.GOARCH]; !ok {
		return fmt.Errorf("%w on %s", ErrUnsupported, runtime.GOARCH)
	}
	return nil
}

// A Session traces the programs it launches, and every process and thread
// they start, until all have ended. All ptrace requests are made from one
// locked OS thread (the kernel's rule: the tracer is a thread); a second
// goroutine waits for the programs' stops and hands them over.
type Session struct {
	opts  Options
	model *model
	arch  *arch

	reqs  chan func()   // run on the tracing thread
	stops chan waitStop // from the waiting goroutine
	arm   chan struct{} // the tracing thread sleeps: wait, and hand over
	kids  chan struct{} // a program was launched: there is someone to wait for

	// Tracing-thread state.
	threads  map[int]*thread
	programs []*launched
	live     int // programs not yet ended
	pidfds   map[int]int
	killed   bool

	done  chan struct{}
	mu    sync.Mutex
	exits []Exit
	open  []LeftOpen
	// signaled is when each signal last reached each program's process,
	// for Signal's forwarding; the tracing thread's.
	signaled map[pidSignal]time.Time
}

// A thread is one traced thread.
type thread struct {
	tid    int
	proc   *process
	inCall *pending
	// starting marks a program's first thread until it has exec'd its
	// program: the calls of socklab's own start-up code are not shown.
	starting bool
	// optionsSet: the first stop of a launched program sets the options.
	optionsSet bool
	// fresh: a thread or process the kernel attached as it was made
	// (PTRACE_O_TRACECLONE and friends), whose first stop, a SIGSTOP, is
	// the attach's and not a signal to pass on.
	fresh bool
}

type launched struct {
	prog       Program
	pid        int
	exit       *Exit
	untraced32 bool // it, or a process it started, exec'd a 32-bit program
}

type waitStop struct {
	tid    int
	status unix.WaitStatus
	err    error
}

// Start begins a session that traces into tr. The caller launches the
// programs with Launch and waits with Wait.
func Start(tr *trace.Tracer, opts Options) (*Session, error) {
	if err := Supported(); err != nil {
		return nil, err
	}
	s := &Session{
		opts: opts, arch: arches[runtime.GOARCH],
		reqs: make(chan func()), stops: make(chan waitStop, 1), arm: make(chan struct{}, 1), kids: make(chan struct{}, 1),
		threads: map[int]*thread{}, pidfds: map[int]int{}, done: make(chan struct{}),
		signaled: map[pidSignal]time.Time{},
	}
	s.model = newModel(tr, (*procKernel)(s), processMemory{}, opts.All, opts.KernelState)
	s.model.listened = func(p *process) {
		if opts.Listening != nil {
			opts.Listening(p.pid)
		}
	}
	go s.loop()
	go s.wait()
	return s, nil
}

// do runs f on the tracing thread and returns when it has run.
func (s *Session) do(f func()) bool {
	ran := make(chan struct{})
	select {
	case s.reqs <- func() { f(); close(ran) }:
		<-ran
		return true
	case <-s.done:
		return false
	}
}

// Launch starts p under the trace. It returns the program's pid, or an
// error saying why it could not start: the command is not found
// (ErrNotFound), not executable (ErrNotExecutable), or ptrace is not
// allowed here (ErrPtraceRefused).
func (s *Session) Launch(p Program) (int, error) {
	path, err := Resolve(p.Argv[0])
	if err != nil {
		return 0, err
	}
	var pid int
	var startErr error
	if !s.do(func() { pid, startErr = s.launch(p, path) }) {
		return 0, errors.New("the trace has ended")
	}
	return pid, startErr
}

// Resolve finds the program command names, as a shell would, or returns
// ErrNotFound or ErrNotExecutable.
func Resolve(command string) (string, error) {
	path, err := exec.LookPath(command)
	switch {
	case err == nil:
		return path, nil
	case errors.Is(err, exec.ErrNotFound):
		if strings.Contains(command, "/") {
			if _, serr := os.Stat(command); serr == nil {
				return "", fmt.Errorf("%w: %s", ErrNotExecutable, command)
			}
		}
		return "", fmt.Errorf("%w: %s", ErrNotFound, command)
	case errors.Is(err, os.ErrPermission), errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EISDIR):
		return "", fmt.Errorf("%w: %s", ErrNotExecutable, command)
	case errors.Is(err, os.ErrNotExist):
		return "", fmt.Errorf("%w: %s", ErrNotFound, command)
	}
	return "", err
}

// launch runs on the tracing thread: ForkExec with Ptrace set makes the
// child ask to be traced by the thread that forked it.
func (s *Session) launch(p Program, path string) (int, error) {
	self, err := os.Executable()
	if err != nil {
		return 0, err
	}
	env := p.Env
	if env == nil {
		env = os.Environ()
	}
	mark := traceeEnv + "=1"
	if s.opts.NoFilter {
		mark = traceeEnv + "=" + noFilter
	}
	env = append(env[:len(env):len(env)], mark)
	files := []uintptr{fdOf(p.Stdin, 0), fdOf(p.Stdout, 1), fdOf(p.Stderr, 2)}
	// The helper's arguments: its own name, the program's path, then the
	// program's argv (argv[0] as typed).
	pid, err := syscall.ForkExec(self, append([]string{"socklab-tracee", path}, p.Argv...), &syscall.ProcAttr{
		Dir: p.Dir, Env: env, Files: files,
		Sys: &syscall.SysProcAttr{Ptrace: true, Pdeathsig: syscall.SIGKILL},
	})
	if err != nil {
		if errors.Is(err, syscall.EPERM) {
			return 0, fmt.Errorf("%w: %v", ErrPtraceRefused, err)
		}
		return 0, err
	}
	prog := &launched{prog: p, pid: pid}
	s.programs = append(s.programs, prog)
	s.live++
	proc := s.model.forked(pid, nil, len(s.programs)-1, p.Role)
	s.threads[pid] = &thread{tid: pid, proc: proc, starting: true}
	select {
	case s.kids <- struct{}{}:
	default:
	}
	return pid, nil
}

func fdOf(f *os.File, std uintptr) uintptr {
	if f == nil {
		return std
	}
	return f.Fd()
}

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
func (s *Session) loop() {
	runtime.LockOSThread() // for good: this thread is the tracer
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
		runtime.Gosched()
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

// finish ends the session: every program has ended.
func (s *Session) finish() {
	for pid, fd := range s.pidfds {
		unix.Close(fd)
		delete(s.pidfds, pid)
	}
	close(s.done)
}

// Wait waits until every traced program, and every process they started,
// has ended, and returns how each program ended, in launch order.
func (s *Session) Wait() []Exit {
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	exits := make([]Exit, len(s.programs))
	for i, p := range s.programs {
		exits[i] = *p.exit
	}
	return exits
}

// Done is closed when every traced process has ended.
func (s *Session) Done() <-chan struct{} { return s.done }

// LeftOpen returns the sockets shown in the trace that a process still
// held when it exited: the kernel closed them, not a close call.
func (s *Session) LeftOpen() []LeftOpen {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]LeftOpen(nil), s.open...)
}

// Signal sends sig to every traced process that has not seen it within
// a moment: a Ctrl-C at the terminal reaches the programs by itself (they
// share socklab's process group); a signal sent to socklab alone is
// passed on.
func (s *Session) Signal(sig syscall.Signal) {
	asked := time.Now()
	time.Sleep(50 * time.Millisecond)
	s.do(func() {
		for _, p := range s.programs {
			if p.exit == nil && s.signaled[pidSignal{p.pid, sig}].Before(asked) {
				unix.Kill(p.pid, sig)
			}
		}
	})
}

type pidSignal struct {
	pid int
	sig syscall.Signal
}

// Ended reports whether the launched programs with these pids have all
// ended.
func (s *Session) Ended(pids ...int) bool {
	ended := true
	if !s.do(func() {
		for _, p := range s.programs {
			if slices.Contains(pids, p.pid) && p.exit == nil {
				ended = false
			}
		}
	}) {
		return true
	}
	return ended
}

// Blocked returns the operation a thread of process pid is inside now
// (accept, read, …), or "".
func (s *Session) Blocked(pid int) trace.Op {
	var op trace.Op
	s.do(func() {
		for _, t := range s.threads {
			if t.proc.pid == pid && t.inCall != nil && t.inCall.show {
				op = t.inCall.e.Op
			}
		}
	})
	return op
}

// Kill kills every traced process: the kernel closes their sockets.
func (s *Session) Kill() {
	s.do(s.killAll)
}

func (s *Session) killAll() {
	s.killed = true
	for tid := range s.threads {
		unix.Kill(tid, unix.SIGKILL)
	}
}

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
	pc := s.model.enter(t.proc, c, info.args)
	if pc == nil {
		s.resume(t.tid, 0)
		return
	}
	if !pc.show || !s.opts.Stepped {
		s.admitted(t, pc, nil)
		return
	}
	// A person paces the run: ask the gate off this thread, which goes on
	// serving the other programs' stops meanwhile.
	peer := s.model.peerOf(pc.p, pc.sock.role)
	e := pc.e
	go func() {
		err := peer.Admit(&e)
		select {
		case s.reqs <- func() { s.admitted(t, pc, err) }:
		case <-s.done:
		}
	}()
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
	exit := Exit{PID: t.proc.pid, Argv: prog.prog.Argv, Shown: s.model.shown[t.proc.program], Killed: s.killed, Untraced32: prog.untraced32}
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

// The system's side of the model's questions (kernel), answered for the
// tracing thread.
type procKernel Session

func (k *procKernel) inode(pid, fd int) (uint64, bool) {
	var buf [64]byte
	path := strconv.AppendInt(append(strconv.AppendInt(append(buf[:0], "/proc/"...), int64(pid), 10), "/fd/"...), int64(fd), 10)
	var link [64]byte
	n, err := unix.Readlink(string(path), link[:])
	if err != nil {
		return 0, false
	}
	rest, ok := strings.CutPrefix(string(link[:n]), "socket:[")
	if !ok {
		return 0, false
	}
	ino, err := strconv.ParseUint(strings.TrimSuffix(rest, "]"), 10, 64)
	return ino, err == nil
}

// dup duplicates process pid's descriptor fd into socklab, or returns -1.
// The caller closes it at once: a duplicate held across the program's
// close would delay its FIN.
func (k *procKernel) dup(pid, fd int) int {
	pidfd, ok := k.pidfds[pid]
	if !ok {
		var err error
		if pidfd, err = unix.PidfdOpen(pid, 0); err != nil {
			return -1
		}
		k.pidfds[pid] = pidfd
	}
	d, err := unix.PidfdGetfd(pidfd, fd, 0)
	if err != nil {
		return -1
	}
	return d
}

func (k *procKernel) facts(pid, fd int, state bool) facts {
	d := k.dup(pid, fd)
	if d < 0 {
		return facts{}
	}
	defer unix.Close(d)
	f := facts{ok: true}
	f.family, _ = unix.GetsockoptInt(d, unix.SOL_SOCKET, unix.SO_DOMAIN)
	f.typ, _ = unix.GetsockoptInt(d, unix.SOL_SOCKET, unix.SO_TYPE)
	if v, err := unix.GetsockoptInt(d, unix.SOL_SOCKET, unix.SO_ACCEPTCONN); err == nil {
		f.listening = v == 1
	}
	if sa, err := unix.Getsockname(d); err == nil {
		f.local = sockaddrString(sa)
	}
	if sa, err := unix.Getpeername(d); err == nil {
		f.remote = sockaddrString(sa)
	}
	if fl, err := unix.FcntlInt(uintptr(d), unix.F_GETFL, 0); err == nil {
		f.nonblock = fl&unix.O_NONBLOCK != 0
	}
	if state && f.typ == unix.SOCK_STREAM && f.family != unix.AF_UNIX {
		v := kernelview.StateOf(d, f.local, f.remote, f.family == unix.AF_INET6)
		f.state, f.timer, f.stateFrom = v.State, v.Timer, v.From
	}
	return f
}

func (k *procKernel) copies(ino uint64, pid, fd int) int {
	n := 0
	for q := range k.model.procs {
		entries, err := os.ReadDir("/proc/" + strconv.Itoa(q) + "/fd")
		if err != nil {
			continue
		}
		for _, ent := range entries {
			f, err := strconv.Atoi(ent.Name())
			if err != nil || q == pid && f == fd {
				continue
			}
			if other, ok := k.inode(q, f); ok && other == ino {
				n++
			}
		}
	}
	return n
}

func (k *procKernel) closed(e *trace.Event, v6 bool) { kernelview.NoteClosed(e, v6) }

func (k *procKernel) errnoName(n int) string {
	if name := unix.ErrnoName(syscall.Errno(n)); name != "" {
		return name
	}
	return "E" + strconv.Itoa(n)
}

func sockaddrString(sa unix.Sockaddr) string {
	switch sa := sa.(type) {
	case *unix.SockaddrInet4:
		return fmt.Sprintf("%d.%d.%d.%d:%d", sa.Addr[0], sa.Addr[1], sa.Addr[2], sa.Addr[3], sa.Port)
	case *unix.SockaddrInet6:
		b := make([]byte, 28)
		b[0] = afInet6
		b[2], b[3] = byte(sa.Port>>8), byte(sa.Port)
		copy(b[8:], sa.Addr[:])
		binary.LittleEndian.PutUint32(b[24:], sa.ZoneId)
		return sockaddr(b)
	case *unix.SockaddrUnix:
		if strings.HasPrefix(sa.Name, "@") {
			return "@" + escapeName([]byte(sa.Name[1:]))
		}
		if sa.Name == "" {
			return "(unnamed)"
		}
		return escapeName([]byte(sa.Name))
	}
	return ""
}

// processMemory reads a tracee's memory with process_vm_readv.
type processMemory struct{}

func (processMemory) read(pid int, addr uint64, b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	local := []unix.Iovec{{Base: &b[0]}}
	local[0].SetLen(len(b))
	remote := []unix.RemoteIovec{{Base: uintptr(addr), Len: len(b)}}
	n, err := unix.ProcessVMReadv(pid, local, remote, 0)
	if n < 0 {
		n = 0
	}
	return n, err
}

// The kernel's PTRACE_GET_SYSCALL_INFO (Linux 5.3), which gives a call's
// number and arguments, or its result, the same way on every
// architecture.
const (
	syscallInfoEntry   = 1
	syscallInfoExit    = 2
	syscallInfoSeccomp = 3
)

type syscallInfoResult struct {
	op   uint8
	arch uint32
	nr   uint64
	args [6]uint64
	rval int64
}

// rawSyscallInfo is struct ptrace_syscall_info.
type rawSyscallInfo struct {
	Op      uint8
	Pad     [3]uint8
	Arch    uint32
	IP      uint64
	SP      uint64
	Payload [7]uint64 // entry/seccomp: nr, args[6]; exit: rval, is_error
	RetData uint32
	_       uint32
}

func syscallInfo(tid int) (syscallInfoResult, error) {
	var raw rawSyscallInfo
	_, _, errno := unix.Syscall6(unix.SYS_PTRACE, unix.PTRACE_GET_SYSCALL_INFO, uintptr(tid),
		unsafe.Sizeof(raw), uintptr(unsafe.Pointer(&raw)), 0, 0)
	if errno != 0 {
		return syscallInfoResult{}, errno
	}
	r := syscallInfoResult{op: raw.Op, arch: raw.Arch}
	switch raw.Op {
	case syscallInfoEntry, syscallInfoSeccomp:
		r.nr = raw.Payload[0]
		copy(r.args[:], raw.Payload[1:])
	case syscallInfoExit:
		r.rval = int64(raw.Payload[0])
	}
	return r, nil
}

func ptraceGetSiginfo(tid int, info *unix.Siginfo) error {
	_, _, errno := unix.Syscall6(unix.SYS_PTRACE, unix.PTRACE_GETSIGINFO, uintptr(tid), 0, uintptr(unsafe.Pointer(info)), 0, 0)
	if errno != 0 {
		return errno
	}
	return nil
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
