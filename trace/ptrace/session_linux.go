package ptrace

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

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

	srcDir string // sitecustomize.py's, on the programs' PYTHONPATH (source.go)

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
	// gated counts, per program, the calls waiting for a person at the
	// gate (--step); the tracing thread's.
	gated map[int]int
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
	// noticing: the thread is in a call that is noticed if it succeeds
	// (io_uring_setup), until its exit.
	noticing bool
	box      mailbox // where a Python thread writes its line (source.go)
}

type launched struct {
	prog       Program
	pid        int
	exit       *Exit
	untraced32 bool // it, or a process it started, exec'd a 32-bit program
	ioUring    bool // it, or a process it started, set up an io_uring
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
		signaled: map[pidSignal]time.Time{}, gated: map[int]int{},
	}
	s.model = newModel(tr, (*procKernel)(s), processMemory{}, opts.All, opts.KernelState)
	if s.arch.name != "amd64" {
		s.model.epollEventSize = 16 // struct epoll_event is packed only on amd64
	}
	s.model.probing, s.model.paced = true, opts.Stepped
	s.model.listened = func(p *process) {
		if opts.Listening != nil {
			opts.Listening(p.pid)
		}
	}
	isolated := make(chan error, 1)
	go s.loop(isolated)
	if err := <-isolated; err != nil {
		return nil, err
	}
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
	if !s.opts.NoSource && s.srcDir == "" {
		s.srcDir, _ = sourceDir() // without it, no source lines: nothing else changes
	}
	if s.srcDir != "" {
		env = withPythonPath(env, s.srcDir)
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

// finish ends the session: every program has ended.
func (s *Session) finish() {
	for pid, fd := range s.pidfds {
		unix.Close(fd)
		delete(s.pidfds, pid)
	}
	if s.srcDir != "" {
		os.RemoveAll(s.srcDir)
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
