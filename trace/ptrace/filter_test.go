package ptrace

import (
	"encoding/binary"
	"testing"

	"golang.org/x/net/bpf"
)

// seccompData builds the struct seccomp_data the kernel hands the filter.
// x/net/bpf's VM loads words in network byte order where the kernel's
// seccomp loads them in the machine's: each 32-bit field is written big-
// endian at its offset, so that the VM reads the value the kernel would.
// The value is argument 1's, or argument argN's when given.
func seccompData(auditArch, nr uint32, arg1 uint32, argN ...int) []byte {
	b := make([]byte, 64)
	binary.BigEndian.PutUint32(b[offNr:], nr)
	binary.BigEndian.PutUint32(b[offArch:], auditArch)
	off := offArg1
	if len(argN) > 0 {
		off = offArgs + 8*argN[0]
	}
	binary.BigEndian.PutUint32(b[off:], arg1)
	return b
}

func TestFilterStopsOnlyTheShownCalls(t *testing.T) {
	for _, a := range []*arch{&amd64, &arm64} {
		t.Run(a.name, func(t *testing.T) {
			prog, err := filter(a)
			if err != nil {
				t.Fatal(err)
			}
			vm, err := bpf.NewVM(prog)
			if err != nil {
				t.Fatalf("the kernel would refuse it too: %v", err)
			}
			run := func(auditArch, nr, arg1 uint32, argN ...int) uint32 {
				t.Helper()
				got, err := vm.Run(seccompData(auditArch, nr, arg1, argN...))
				if err != nil {
					t.Fatal(err)
				}
				return uint32(got)
			}
			for i := range table {
				c := &table[i]
				nr, ok := a.nr[c]
				if !ok {
					if a.number(c.nr) < 0 {
						continue // no such call here
					}
					t.Fatalf("%v has no number on %s", c, a.name)
				}
				arg1, argN := uint32(0), 1
				if c.only != nil {
					arg1, argN = c.only.value, c.only.arg
				}
				if got := run(a.audit, nr, arg1, argN); got != retTrace {
					t.Errorf("%v (%d): got %#x, want SECCOMP_RET_TRACE", c, nr, got)
				}
			}
			// Everything else runs untraced: every other number the
			// tables could hold, fcntl(F_GETFL), and any call of another
			// architecture (a 32-bit program).
			traced := map[uint32]bool{}
			for _, nr := range a.nr {
				traced[nr] = true
			}
			for nr := uint32(0); nr < 1024; nr++ {
				if !traced[nr] && run(a.audit, nr, 0) != retAllow {
					t.Errorf("call %d is stopped; only the shown calls should be", nr)
				}
			}
			const fGetfl = 3
			if got := run(a.audit, a.nr[callFcntl], fGetfl); got != retAllow {
				t.Errorf("fcntl(F_GETFL) is stopped")
			}
			const auditI386 = 0x40000003
			if got := run(auditI386, a.nr[callSocket], 0); got != retAllow {
				t.Errorf("a 32-bit program's call is stopped: got %#x", got)
			}
			if a.x32 != 0 {
				if got := run(a.audit, a.x32|a.nr[callSocket], 0); got != retAllow {
					t.Errorf("an x32 call is stopped: got %#x", got)
				}
			}
		})
	}
}

func TestCallNumbersAreOneToOne(t *testing.T) {
	for _, a := range arches {
		seen := map[uint32]call{}
		for c, nr := range a.nr {
			if other, dup := seen[nr]; dup {
				t.Errorf("%s: %v and %v are both %d", a.name, c, other, nr)
			}
			seen[nr] = c
			if got := a.callOf(uint64(nr)); got != c {
				t.Errorf("%s: callOf(%d) = %v, want %v", a.name, nr, got, c)
			}
		}
	}
}
