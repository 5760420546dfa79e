package trace

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"testing"
	"time"
)

// fullEvent returns an event with every field set to something that is not
// its zero value, derived from i, so that a field the recorder forgets to
// keep (one added to Event later, say) fails TestRecorderKeepsEveryField.
func fullEvent(t *testing.T, i int) Event {
	t.Helper()
	var e Event
	fillFields(t, reflect.ValueOf(&e).Elem(), i)
	return e
}

// fillFields sets every field of the struct v, and of the structs in it
// (Event.Kernel), as fullEvent says.
func fillFields(t *testing.T, v reflect.Value, i int) {
	t.Helper()
	for f := range v.NumField() {
		field := v.Field(f)
		name := v.Type().Field(f).Name
		switch field.Kind() {
		case reflect.String:
			field.SetString(name + "-" + strconv.Itoa(i%7))
		case reflect.Int, reflect.Int64:
			field.SetInt(int64(f*1000 + i))
		case reflect.Uint64:
			field.SetUint(uint64(f*1000 + i))
		case reflect.Bool:
			field.SetBool(true)
		case reflect.Slice:
			if field.Type().Elem().Kind() == reflect.Struct { // []Wait: a poll's
				field.Set(reflect.ValueOf([]Wait{{FD: i, Read: true, Socket: true, Listens: i%2 == 0}, {FD: i + 1, Write: true}}))
				break
			}
			field.SetBytes([]byte(name + strconv.Itoa(i)))
		case reflect.Interface:
			field.Set(reflect.ValueOf(fmt.Errorf("error %d", i)))
		case reflect.Pointer: // *Packet: a packet of the wire view
			field.Set(reflect.ValueOf(&Packet{Proto: "tcp", From: "127.0.0.1:" + strconv.Itoa(i), To: "127.0.0.1:1",
				ToPeer: "server", Flags: "PSH-ACK", Seq: uint32(i), Ack: 1, Window: 65536, MSS: -1, WScale: -1}))
		case reflect.Struct: // KernelView: a value of its own
			fillFields(t, field, i)
		default:
			t.Fatalf("Event.%s is a %s: teach fullEvent and the Recorder about it", name, field.Kind())
		}
	}
}

func TestRecorderKeepsEveryField(t *testing.T) {
	var rec Recorder
	// More events than fit in one chunk of records, with strings that
	// change and come back.
	var want []Event
	for i := range 3*recordChunk + 5 {
		e := fullEvent(t, i)
		want = append(want, e)
		// The caller's buffer is reused after Handle returns.
		data := bytes.Clone(e.Data)
		e.Data = data
		rec.Handle(e)
		clear(data)
	}
	got := rec.Events()
	if len(got) != len(want) {
		t.Fatalf("got %d events, want %d", len(got), len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Fatalf("event %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
}

func TestRecorderData(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789abcdef"), 8<<10) // 128 KiB
	tests := []struct {
		name  string
		limit int
		data  []byte
		want  []byte
	}{
		{"nil stays nil", 0, nil, nil},
		{"empty stays empty", 0, []byte{}, []byte{}},
		{"short", 0, []byte("hello"), []byte("hello")},
		{"cut to the default", 0, big, big[:DefaultDataLimit]},
		{"cut to the limit", 10, big, big[:10]},
		{"no limit", -1, big, big},
		{"larger than a quarter of an arena chunk", 32 << 10, big, big[:32<<10]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := Recorder{DataLimit: tt.limit}
			rec.Handle(Event{Seq: 1, Data: []byte("before")})
			rec.Handle(Event{Seq: 2, Data: tt.data, N: len(tt.data)})
			rec.Handle(Event{Seq: 3, Data: []byte("after")})
			events := rec.Events()
			got := events[1]
			if (got.Data == nil) != (tt.want == nil) || !bytes.Equal(got.Data, tt.want) {
				t.Errorf("got %d bytes (nil: %t), want %d (nil: %t)", len(got.Data), got.Data == nil, len(tt.want), tt.want == nil)
			}
			if got.N != len(tt.data) {
				t.Errorf("N = %d, want %d: the count of bytes the call moved stays", got.N, len(tt.data))
			}
			// Appending to one event's data must not overwrite the next's.
			_ = append(events[0].Data, "XXXXXXXX"...)
			if again := rec.Events(); string(again[0].Data) != "before" || string(again[2].Data) != "after" {
				t.Errorf("neighbours changed: %q, %q", again[0].Data, again[2].Data)
			}
		})
	}
}

func TestRecorderSortsTracers(t *testing.T) {
	var rec Recorder
	for _, seq := range []uint64{3, 1, 2} {
		rec.Handle(Event{Seq: seq, Peer: "p" + strconv.Itoa(int(seq)), Time: time.Duration(seq)})
	}
	var got []uint64
	for _, e := range rec.Events() {
		if e.Peer != "p"+strconv.Itoa(int(e.Seq)) {
			t.Errorf("event %d has peer %q", e.Seq, e.Peer)
		}
		got = append(got, e.Seq)
	}
	if fmt.Sprint(got) != "[1 2 3]" {
		t.Errorf("got %v, want [1 2 3]", got)
	}
}

func TestRecorderKeepsErrors(t *testing.T) {
	var rec Recorder
	errA := errors.New("a")
	rec.Handle(Event{Seq: 1, Err: errA})
	rec.Handle(Event{Seq: 2})
	events := rec.Events()
	if events[0].Err != errA || events[1].Err != nil {
		t.Errorf("got errors %v, %v; want %v, nil", events[0].Err, events[1].Err, errA)
	}
}
