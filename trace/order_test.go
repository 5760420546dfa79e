package trace

import (
	"slices"
	"strings"
	"testing"
)

func ev(seq uint64, peer string, op Op, phase Phase, ret int) Event {
	return Event{Seq: seq, Peer: peer, Op: op, Phase: phase, Ret: ret, N: ret, FD: 3}
}

func TestCheckOrder(t *testing.T) {
	events := []Event{
		ev(1, "server", OpRead, Begin, 0),
		ev(2, "client", OpWrite, Begin, 0),
		ev(3, "server", OpRead, End, 5),
		ev(4, "client", OpWrite, End, 5),
		ev(5, "server", OpRead, Begin, 0),
		ev(6, "client", OpClose, Begin, 0),
		ev(7, "server", OpRead, End, 0),
		ev(8, "client", OpClose, End, 0),
	}
	tests := []struct {
		name    string
		rule    Rule
		wantErr string // "" when the rule holds
	}{
		{"cause begin before effect end", Rule{BeginOf("client", OpWrite), EndOf("server", OpRead)}, ""},
		{"EOF read", Rule{BeginOf("client", OpClose), EndOf("server", OpRead).AtEOF()}, ""},
		{"second read is the EOF", Rule{EndOf("server", OpRead).Nth(2), EndOf("client", OpClose)}, ""},
		{"begin of the EOF read", Rule{BeginOf("server", OpRead).AtEOF(), BeginOf("client", OpClose)}, ""},
		{"broken", Rule{EndOf("client", OpWrite), EndOf("server", OpRead)}, "broken: got seq 4, then seq 3"},
		{"never happened", Rule{BeginOf("client", OpConnect), EndOf("server", OpRead)}, "client connect begin never happened"},
		{"no third read", Rule{EndOf("server", OpRead), EndOf("server", OpRead).Nth(3)}, "server read#3 end never happened"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckOrder(events, tt.rule)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("got %v, want the rule to hold", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("got %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestPeerCalls(t *testing.T) {
	tests := []struct {
		name    string
		events  []Event
		want    []string
		wantErr string
	}{
		{"pairs", []Event{
			ev(1, "server", OpRead, Begin, 0), ev(2, "client", OpWrite, Begin, 0),
			ev(3, "server", OpRead, End, 5), ev(4, "server", OpRead, Begin, 0), ev(5, "server", OpRead, End, 0),
		}, []string{"read", "read(EOF)"}, ""},
		{"end without begin", []Event{ev(1, "server", OpRead, End, 0)}, nil, "does not pair"},
		{"two begins", []Event{ev(1, "server", OpRead, Begin, 0), ev(2, "server", OpWrite, Begin, 0)}, nil, "does not pair"},
		{"never ended", []Event{ev(1, "server", OpAccept, Begin, 0)}, nil, "never ended"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := PeerCalls(tt.events, "server")
			if tt.wantErr == "" && (err != nil || !slices.Equal(got, tt.want)) {
				t.Errorf("got %q, %v; want %q", got, err, tt.want)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("got error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}
