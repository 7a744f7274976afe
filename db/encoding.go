package db

import (
	"encoding/binary"
	"errors"
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

// Record field tags. Never reuse or renumber one.
const (
	rIdentifier = 1 + iota
	rIssuer
	rSerial
	rKind
	rDER
	rNotBefore
	rNotAfter
	rState
	rRevokedAt
	rReason
	rDeleted
	rDeletedAt
	rAlias
	rCustomIdentifier
	rResourceGroupID
	rTag
	rSealedKey
	rCreatedAt
)

func encodeRecord(r certs.Record) []byte {
	e := newEncoder()
	e.str(rIdentifier, string(r.Identifier))
	e.str(rIssuer, string(r.Issuer))
	e.str(rSerial, string(r.Serial))
	e.uint(rKind, uint64(r.Kind))
	e.bytes(rDER, r.DER)
	e.time(rNotBefore, r.NotBefore)
	e.time(rNotAfter, r.NotAfter)
	e.uint(rState, uint64(r.State))
	e.time(rRevokedAt, r.RevokedAt)
	e.uint(rReason, uint64(r.Reason))
	e.bool(rDeleted, r.Deleted)
	e.time(rDeletedAt, r.DeletedAt)
	e.str(rAlias, r.Alias)
	e.str(rCustomIdentifier, r.CustomIdentifier)
	e.str(rResourceGroupID, r.ResourceGroupID)
	e.tags(rTag, r.Tags)
	e.bytes(rSealedKey, r.SealedKey)
	e.time(rCreatedAt, r.CreatedAt)
	return e.b
}

func decodeRecord(b []byte) (certs.Record, error) { return decodeRecordFields(b, true) }

// decodeRecordFields decodes a record; without full, only what a status
// answer needs: the certificate, sealed key, tags, alias, custom identifier
// and resource group are skipped.
func decodeRecordFields(b []byte, full bool) (certs.Record, error) {
	var r certs.Record
	b, err := body(b)
	if err != nil {
		return r, err
	}
	err = walk(b, func(f field) error {
		switch f.tag {
		case rIdentifier:
			r.Identifier = certs.Identifier(f.raw)
		case rIssuer:
			r.Issuer = certs.Identifier(f.raw)
		case rSerial:
			r.Serial = certs.Serial(f.raw)
		case rKind:
			r.Kind = certs.Kind(f.num)
		case rDER:
			if full {
				r.DER = clone(f.raw)
			}
		case rNotBefore:
			r.NotBefore = f.time()
		case rNotAfter:
			r.NotAfter = f.time()
		case rState:
			r.State = certs.State(f.num)
		case rRevokedAt:
			r.RevokedAt = f.time()
		case rReason:
			r.Reason = certs.Reason(f.num)
		case rDeleted:
			r.Deleted = f.num != 0
		case rDeletedAt:
			r.DeletedAt = f.time()
		case rAlias:
			if full {
				r.Alias = string(f.raw)
			}
		case rCustomIdentifier:
			if full {
				r.CustomIdentifier = string(f.raw)
			}
		case rResourceGroupID:
			if full {
				r.ResourceGroupID = string(f.raw)
			}
		case rTag:
			if !full {
				return nil
			}
			t, err := decodeTag(f.raw)
			if err != nil {
				return err
			}
			r.Tags = append(r.Tags, t)
		case rSealedKey:
			if full {
				r.SealedKey = clone(f.raw)
			}
		case rCreatedAt:
			r.CreatedAt = f.time()
		}
		return nil
	})
	if err == nil {
		err = checkState(r.State, r.RevokedAt, r.Reason)
	}
	return r, err
}

// decodeFacts decodes what f holds of the encoded record b, appending the
// serial to serials (the caller slices it out once all are read).
// encodeRecord writes fields in tag order, so it stops at the first field
// past rReason: the rest (names, tags, sealed key) is not read at all.
func decodeFacts(b []byte, f *certs.StatusFacts, serials []byte) ([]byte, error) {
	b, err := body(b)
	if err != nil {
		return serials, err
	}
	err = walk(b, func(fl field) error {
		switch fl.tag {
		default:
			if fl.tag > rReason {
				return errEnough
			}
		case rIdentifier:
			f.Found = len(fl.raw) > 0
		case rSerial:
			serials = append(serials, fl.raw...)
		case rNotAfter:
			f.NotAfter = fl.time()
		case rState:
			f.State = certs.State(fl.num)
		case rRevokedAt:
			f.RevokedAt = fl.time()
		case rReason:
			f.Reason = certs.Reason(fl.num)
		}
		return nil
	})
	if err == errEnough {
		err = nil
	}
	if err == nil {
		err = checkState(f.State, f.RevokedAt, f.Reason)
	}
	return serials, err
}

// errEnough stops a walk that has read every field it needs.
var errEnough = errors.New("db: enough fields")

// CA field tags. Never reuse or renumber one.
const (
	cIdentifier = 1 + iota
	cParent
	cKind
	cSerial
	cDER
	cNotBefore
	cNotAfter
	cPathLen
	cState
	cRevokedAt
	cReason
	cDisabled
	cAlias
	cResourceGroupID
	cTag
	cSealedKey
	cCreatedAt
	cExtKeyUsage // repeated: one per usage
	cCertMaxDays
)

func encodeCA(c certs.CA) []byte {
	e := newEncoder()
	e.str(cIdentifier, string(c.Identifier))
	e.str(cParent, string(c.Parent))
	e.uint(cKind, uint64(c.Kind))
	e.str(cSerial, string(c.Serial))
	e.bytes(cDER, c.DER)
	e.time(cNotBefore, c.NotBefore)
	e.time(cNotAfter, c.NotAfter)
	e.int(cPathLen, int64(c.PathLen))
	e.uint(cState, uint64(c.State))
	e.time(cRevokedAt, c.RevokedAt)
	e.uint(cReason, uint64(c.Reason))
	e.bool(cDisabled, c.Disabled)
	e.str(cAlias, c.Alias)
	e.str(cResourceGroupID, c.ResourceGroupID)
	e.tags(cTag, c.Tags)
	e.bytes(cSealedKey, c.SealedKey)
	e.time(cCreatedAt, c.CreatedAt)
	for _, u := range c.ExtKeyUsages {
		e.str(cExtKeyUsage, string(u))
	}
	e.uint(cCertMaxDays, uint64(c.CertMaxDays))
	return e.b
}

func decodeCA(b []byte) (certs.CA, error) {
	c := certs.CA{PathLen: -1}
	b, err := body(b)
	if err != nil {
		return c, err
	}
	err = walk(b, func(f field) error {
		switch f.tag {
		case cIdentifier:
			c.Identifier = certs.Identifier(f.raw)
		case cParent:
			c.Parent = certs.Identifier(f.raw)
		case cKind:
			c.Kind = certs.Kind(f.num)
		case cSerial:
			c.Serial = certs.Serial(f.raw)
		case cDER:
			c.DER = clone(f.raw)
		case cNotBefore:
			c.NotBefore = f.time()
		case cNotAfter:
			c.NotAfter = f.time()
		case cPathLen:
			c.PathLen = int(f.int())
		case cState:
			c.State = certs.State(f.num)
		case cRevokedAt:
			c.RevokedAt = f.time()
		case cReason:
			c.Reason = certs.Reason(f.num)
		case cDisabled:
			c.Disabled = f.num != 0
		case cAlias:
			c.Alias = string(f.raw)
		case cResourceGroupID:
			c.ResourceGroupID = string(f.raw)
		case cTag:
			t, err := decodeTag(f.raw)
			if err != nil {
				return err
			}
			c.Tags = append(c.Tags, t)
		case cSealedKey:
			c.SealedKey = clone(f.raw)
		case cCreatedAt:
			c.CreatedAt = f.time()
		case cExtKeyUsage:
			u, err := certs.ParseEKU(string(f.raw))
			if err != nil {
				return fmt.Errorf("%w: CA extended key usage: %v", certs.ErrCorrupt, err)
			}
			c.ExtKeyUsages = append(c.ExtKeyUsages, u)
		case cCertMaxDays:
			if f.num > 1<<31 {
				return fmt.Errorf("%w: CA CertMaxDays %d", certs.ErrCorrupt, f.num)
			}
			c.CertMaxDays = int(f.num)
		}
		return nil
	})
	if err == nil {
		err = checkState(c.State, c.RevokedAt, c.Reason)
	}
	return c, err
}

// Access key field tags. Never reuse or renumber one.
const (
	kID = 1 + iota
	kSealedSecret
	kOwner
	kPolicy
	kQPS
	kDisabled
	kCreatedAt
)

func encodeAccessKey(k certs.AccessKey) []byte {
	e := newEncoder()
	e.str(kID, k.ID)
	e.bytes(kSealedSecret, k.SealedSecret)
	e.str(kOwner, k.Owner)
	e.str(kPolicy, k.Policy)
	e.uint(kQPS, uint64(k.QPS))
	e.bool(kDisabled, k.Disabled)
	e.time(kCreatedAt, k.CreatedAt)
	return e.b
}

func decodeAccessKey(b []byte) (certs.AccessKey, error) {
	var k certs.AccessKey
	b, err := body(b)
	if err != nil {
		return k, err
	}
	err = walk(b, func(f field) error {
		switch f.tag {
		case kID:
			k.ID = string(f.raw)
		case kSealedSecret:
			k.SealedSecret = clone(f.raw)
		case kOwner:
			k.Owner = string(f.raw)
		case kPolicy:
			k.Policy = string(f.raw)
		case kQPS:
			k.QPS = int(f.num)
		case kDisabled:
			k.Disabled = f.num != 0
		case kCreatedAt:
			k.CreatedAt = f.time()
		}
		return nil
	})
	return k, err
}

// Responder field tags. Never reuse or renumber one.
const (
	pCA = 1 + iota
	pDER
	pSealedKey
	pNotBefore
	pNotAfter
	pCreatedAt
)

func encodeResponder(r certs.Responder) []byte {
	e := newEncoder()
	e.str(pCA, string(r.CA))
	e.bytes(pDER, r.DER)
	e.bytes(pSealedKey, r.SealedKey)
	e.time(pNotBefore, r.NotBefore)
	e.time(pNotAfter, r.NotAfter)
	e.time(pCreatedAt, r.CreatedAt)
	return e.b
}

func decodeResponder(b []byte) (certs.Responder, error) {
	var r certs.Responder
	b, err := body(b)
	if err != nil {
		return r, err
	}
	err = walk(b, func(f field) error {
		switch f.tag {
		case pCA:
			r.CA = certs.Identifier(f.raw)
		case pDER:
			r.DER = clone(f.raw)
		case pSealedKey:
			r.SealedKey = clone(f.raw)
		case pNotBefore:
			r.NotBefore = f.time()
		case pNotAfter:
			r.NotAfter = f.time()
		case pCreatedAt:
			r.CreatedAt = f.time()
		}
		return nil
	})
	return r, err
}

// CRL field tags. Never reuse or renumber one.
const (
	lCA = 1 + iota
	lNumber
	lDER
	lThisUpdate
	lNextUpdate
	lStale
	lRevision
)

func encodeCRL(c certs.CRL) []byte {
	e := newEncoder()
	e.str(lCA, string(c.CA))
	e.uint(lNumber, c.Number)
	e.bytes(lDER, c.DER)
	e.time(lThisUpdate, c.ThisUpdate)
	e.time(lNextUpdate, c.NextUpdate)
	e.bool(lStale, c.Stale)
	e.uint(lRevision, c.Revision)
	return e.b
}

func decodeCRL(b []byte) (certs.CRL, error) {
	var c certs.CRL
	b, err := body(b)
	if err != nil {
		return c, err
	}
	err = walk(b, func(f field) error {
		switch f.tag {
		case lCA:
			c.CA = certs.Identifier(f.raw)
		case lNumber:
			c.Number = f.num
		case lDER:
			c.DER = clone(f.raw)
		case lThisUpdate:
			c.ThisUpdate = f.time()
		case lNextUpdate:
			c.NextUpdate = f.time()
		case lStale:
			c.Stale = f.num != 0
		case lRevision:
			c.Revision = f.num
		}
		return nil
	})
	return c, err
}
