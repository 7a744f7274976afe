package db

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/certstatus/certstatus/certs"
)

// Records are stored as one version byte followed by tagged fields:
//
//	field  = uvarint(tag<<1 | wire) value
//	wire 0 = varint:  value is a uvarint (zig-zag for signed numbers)
//	wire 1 = bytes:   value is uvarint(len) followed by len bytes
//
// Absent fields are zero. Unknown tags are skipped, so a newer binary can add
// fields without a schema migration; changing the meaning of a tag needs a
// new version byte and a migration. Times are microseconds since the Unix
// epoch (zig-zag), which reaches year 9999 as RFC 5280 needs.
const encVersion = 1

const (
	wireVarint = 0
	wireBytes  = 1
)

var errCorrupt = fmt.Errorf("db: record does not decode: %w", certs.ErrCorrupt)

// checkState fails a decoded certificate or CA whose lifecycle fields hold
// what no writer stores: a state other than issued or revoked, a
// revocation without a time or with a reason no revocation carries, a
// reason that is no RFC 5280 code. StatusAt would refuse them too; the
// decoder refuses first so that no reader sees them.
func checkState(s certs.State, at time.Time, reason certs.Reason) error {
	switch {
	case s != certs.StateIssued && s != certs.StateRevoked:
		return fmt.Errorf("%w: state %v", errCorrupt, s)
	case s == certs.StateRevoked && (at.IsZero() || !reason.Revocable()):
		return fmt.Errorf("%w: revoked at %v for reason %v", errCorrupt, at, reason)
	case !reason.Valid():
		return fmt.Errorf("%w: reason %v", errCorrupt, reason)
	}
	return nil
}

// storedTime is t as the store keeps it (UTC, microseconds), so that what a
// write returns equals what later reads return.
func storedTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

type encoder struct{ b []byte }

func newEncoder() *encoder { return &encoder{b: []byte{encVersion}} }

func (e *encoder) key(tag, wire uint64) { e.b = binary.AppendUvarint(e.b, tag<<1|wire) }

func (e *encoder) uint(tag uint64, v uint64) {
	if v == 0 {
		return
	}
	e.key(tag, wireVarint)
	e.b = binary.AppendUvarint(e.b, v)
}

func (e *encoder) int(tag uint64, v int64) {
	e.key(tag, wireVarint)
	e.b = binary.AppendVarint(e.b, v)
}

func (e *encoder) bool(tag uint64, v bool) {
	if v {
		e.uint(tag, 1)
	}
}

func (e *encoder) bytes(tag uint64, v []byte) {
	if len(v) == 0 {
		return
	}
	e.key(tag, wireBytes)
	e.b = binary.AppendUvarint(e.b, uint64(len(v)))
	e.b = append(e.b, v...)
}

func (e *encoder) str(tag uint64, s string) { e.bytes(tag, []byte(s)) }

func (e *encoder) time(tag uint64, t time.Time) {
	if !t.IsZero() {
		e.int(tag, t.UnixMicro())
	}
}

func (e *encoder) tags(tag uint64, ts []certs.Tag) {
	for _, t := range ts {
		inner := encoder{}
		inner.str(1, t.Key)
		inner.str(2, t.Value)
		e.key(tag, wireBytes)
		e.b = binary.AppendUvarint(e.b, uint64(len(inner.b)))
		e.b = append(e.b, inner.b...)
	}
}

// field is one decoded field; num holds varints, raw holds bytes.
type field struct {
	tag uint64
	num uint64
	raw []byte
}

// int undoes the zig-zag encoding of binary.AppendVarint.
func (f field) int() int64 { return int64(f.num>>1) ^ -int64(f.num&1) }

func (f field) time() time.Time { return time.UnixMicro(f.int()).UTC() }

// walk calls fn for each field of an encoded record (without the version
// byte). Byte slices point into b; callers copy what they keep.
func walk(b []byte, fn func(field) error) error {
	for len(b) > 0 {
		k, n := binary.Uvarint(b)
		if n <= 0 {
			return errCorrupt
		}
		b = b[n:]
		f := field{tag: k >> 1}
		switch k & 1 {
		case wireVarint:
			v, n := binary.Uvarint(b)
			if n <= 0 {
				return errCorrupt
			}
			// Signed fields were written with AppendVarint; keep the raw
			// zig-zag form and let field.int undo it.
			f.num = v
			b = b[n:]
		case wireBytes:
			l, n := binary.Uvarint(b)
			if n <= 0 || l > uint64(len(b)-n) {
				return errCorrupt
			}
			f.raw = b[n : n+int(l)]
			b = b[n+int(l):]
		}
		if err := fn(f); err != nil {
			return err
		}
	}
	return nil
}

func body(b []byte) ([]byte, error) {
	if len(b) == 0 {
		return nil, errCorrupt
	}
	if b[0] != encVersion {
		return nil, fmt.Errorf("%w: encoding version %d, this certstatus reads %d", errCorrupt, b[0], encVersion)
	}
	return b[1:], nil
}

func clone(b []byte) []byte { return append([]byte(nil), b...) }

func decodeTag(raw []byte) (certs.Tag, error) {
	var t certs.Tag
	err := walk(raw, func(f field) error {
		switch f.tag {
		case 1:
			t.Key = string(f.raw)
		case 2:
			t.Value = string(f.raw)
		}
		return nil
	})
	return t, err
}
