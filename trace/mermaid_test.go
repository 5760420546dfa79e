package trace

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/socklab/socklab/trace/i18n"
)

// mermaidLine is every line a socklab diagram may hold: Mermaid's
// sequenceDiagram syntax for participants, notes and solid arrows.
// A ";" is only in an entity code (#59; for ";" itself).
var mermaidLine = regexp.MustCompile(`^(sequenceDiagram|    participant (P\d+) as [^;#\n]+|    Note over (P\d+): (?:#[0-9a-z]+;|[^;\n])+|    (P\d+)->>(P\d+): (?:#[0-9a-z]+;|[^;\n])+)$`)

// TestMermaidIsASequenceDiagram parses the diagram of the sample run: the
// header first, then only known line shapes, each participant declared
// before any line uses it, and no character Mermaid would read as syntax.
func TestMermaidIsASequenceDiagram(t *testing.T) {
	var buf bytes.Buffer
	render(t, NewMermaidSink(&buf, nil))
	checkGolden(t, "trace.mermaid", buf.Bytes())
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if lines[0] != "sequenceDiagram" {
		t.Fatalf("first line %q, want sequenceDiagram", lines[0])
	}
	declared := map[string]bool{}
	for i, line := range lines[1:] {
		m := mermaidLine.FindStringSubmatch(line)
		if m == nil {
			t.Errorf("line %d is not Mermaid: %q", i+2, line)
			continue
		}
		if m[2] != "" {
			declared[m[2]] = true
		}
		for _, used := range []string{m[3], m[4], m[5]} {
			if used != "" && !declared[used] {
				t.Errorf("line %d uses %s before declaring it", i+2, used)
			}
		}
	}
	if strings.ContainsAny(buf.String(), "\x1b\x00") {
		t.Error("the diagram holds control bytes")
	}
}

func TestMermaidArrows(t *testing.T) {
	for _, tt := range []struct {
		lang i18n.Lang
		want []string
	}{
		{i18n.EN, []string{
			"participant P1 as server",
			"P2->>P1: handshake done (SYN, SYN-ACK, ACK)",
			`P2->>P1: 2 bytes "a#59;"`,
			"P2->>P1: FIN: end of file",
			"Note over P1: [3] listen = 0 · LISTEN",
		}},
		{i18n.ZH, []string{
			"participant P1 as 服务器",
			"participant P2 as 客户端",
			"P2->>P1: 握手完成（SYN、SYN-ACK、ACK）",
			`P2->>P1: 2 字节 "a#59;"`,
			"P2->>P1: FIN：文件结束",
			"Note over P1: [3] listen = 0 · LISTEN",
		}},
	} {
		got := mermaidArrows(t, tt.lang)
		for _, want := range tt.want {
			if !strings.Contains(got, want) {
				t.Errorf("%s: no %q in:\n%s", tt.lang, want, got)
			}
		}
	}
}

// mermaidArrows is the diagram of a short exchange, in lang.
func mermaidArrows(t *testing.T, lang i18n.Lang) string {
	var buf bytes.Buffer
	s := NewMermaidSink(&buf, &MermaidOptions{Lang: lang})
	for _, e := range []Event{
		{Peer: "server", Role: Server, Op: OpListen, Phase: End, Step: 3, Syscall: "listen", Local: "127.0.0.1:1", Kernel: KernelView{State: "LISTEN"}},
		{Peer: "client", Role: Client, Op: OpGetsockname, Phase: End, Syscall: "getsockname", Local: "127.0.0.1:2"},
		{Peer: "client", Role: Client, Op: OpConnect, Phase: End, Syscall: "connect", Remote: "127.0.0.1:1"},
		{Peer: "server", Role: Server, Op: OpRead, Phase: End, Syscall: "read", Remote: "127.0.0.1:2", Ret: 2, N: 2, Data: []byte("a;")},
		{Peer: "server", Role: Server, Op: OpRead, Phase: End, Syscall: "read", Remote: "127.0.0.1:2"},
	} {
		if err := s.Handle(e); err != nil {
			t.Fatal(err)
		}
	}
	return buf.String()
}
