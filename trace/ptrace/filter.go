package ptrace

import (
	"fmt"
	"slices"

	"golang.org/x/net/bpf"
)

// The seccomp filter: a classic BPF program the traced program installs on
// itself before exec (see tracee_linux.go). It returns SECCOMP_RET_TRACE
// for the calls socklab shows, which stops the program for the tracer, and
// SECCOMP_RET_ALLOW for every other call, which runs at full speed: a
// program doing 200,000 stat calls is not slowed at all. This is what
// strace --seccomp-bpf does.
const (
	retAllow = 0x7fff0000 // SECCOMP_RET_ALLOW
	retTrace = 0x7ff00000 // SECCOMP_RET_TRACE
)

// The fields of struct seccomp_data the filter reads, by offset. Loads are
// in the machine's byte order; both architectures are little-endian, so the
// low half of a 64-bit argument comes first.
const (
	offNr   = 0
	offArch = 4
	offArgs = 16          // args[0]
	offArg1 = offArgs + 8 // args[1], low 32 bits
)

// filter returns the seccomp program for a: calls of another architecture
// (a 32-bit program) and x32 calls pass untraced; so do the calls the
// table traces only for some value of an argument (fcntl's F_SETFL), with
// another.
func filter(a *arch) ([]bpf.Instruction, error) {
	var traced []uint32
	var gated []call
	for c, nr := range a.nr {
		if c.only == nil {
			traced = append(traced, nr)
		} else {
			gated = append(gated, c)
		}
	}
	// The same program every time.
	slices.Sort(traced)
	slices.SortFunc(gated, func(x, y call) int { return int(a.nr[x]) - int(a.nr[y]) })

	// The layout: the checks, then one instruction each for allow and
	// trace, then the argument checks, four instructions each. Jumps
	// count the instructions they skip, so each is worked out from where
	// it sits.
	var prog []bpf.Instruction
	head := 3 // load arch, check arch, load nr
	if a.x32 != 0 {
		head++
	}
	allow := head + len(traced) + len(gated) // after the nr checks and the gated calls' jumps
	trace := allow + 1
	check := func(j int) int { return trace + 1 + 4*j }
	skipTo := func(from, to int) uint8 { return uint8(to - from - 1) }

	prog = append(prog,
		bpf.LoadAbsolute{Off: offArch, Size: 4},
		bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: a.audit, SkipTrue: skipTo(1, allow)},
		bpf.LoadAbsolute{Off: offNr, Size: 4},
	)
	if a.x32 != 0 {
		prog = append(prog, bpf.JumpIf{Cond: bpf.JumpGreaterOrEqual, Val: a.x32, SkipTrue: skipTo(len(prog), allow)})
	}
	for _, nr := range traced {
		prog = append(prog, bpf.JumpIf{Cond: bpf.JumpEqual, Val: nr, SkipTrue: skipTo(len(prog), trace)})
	}
	for j, c := range gated {
		prog = append(prog, bpf.JumpIf{Cond: bpf.JumpEqual, Val: a.nr[c], SkipTrue: skipTo(len(prog), check(j))})
	}
	prog = append(prog,
		bpf.RetConstant{Val: retAllow},
		bpf.RetConstant{Val: retTrace},
	)
	for _, c := range gated {
		// BPF jumps only forward: each check has returns of its own.
		prog = append(prog,
			bpf.LoadAbsolute{Off: uint32(offArgs + 8*c.only.arg), Size: 4},
			bpf.JumpIf{Cond: bpf.JumpEqual, Val: c.only.value, SkipTrue: 1},
			bpf.RetConstant{Val: retAllow},
			bpf.RetConstant{Val: retTrace},
		)
	}
	if len(prog) > 255 {
		return nil, fmt.Errorf("seccomp filter too long: %d instructions", len(prog))
	}
	return prog, nil
}
