package db

import (
	"context"
	"crypto"
	"encoding/binary"
	"encoding/hex"
	"time"

	"github.com/certstatus/certstatus/certs"
)

// The serving path: two reads the OCSP responder makes for nearly every
// request, in a form that allocates nothing. Keys are built in a stack
// buffer from the serial exactly as a CertID carries it, and a response is
// copied out of the memory-mapped page into the caller's buffer; nothing
// is decoded that the answer does not need. Both read one value through
// viewValue, which on a bbolt engine keeps the key on the stack.

// maxKeySerial is the longest serial (DER INTEGER contents) the serving
// path builds keys for; longer ones take the general path.
const maxKeySerial = 64

// servingKey returns issuer(16) ‖ [len(serial)] ‖ magnitude in buf, where
// der is the DER contents of a positive INTEGER (leading zero octets
// dropped, as certs.Serial.Bytes has it). withLen adds the length octet of
// the ocsp bucket's keys. ok is false for a malformed identifier or a serial
// this path does not take (negative, empty or too long).
func servingKey(buf *[16 + 1 + maxKeySerial + 1]byte, issuer certs.Identifier, der []byte, withLen bool) ([]byte, bool) {
	if len(issuer) != certs.IdentifierLen || len(der) == 0 || len(der) > maxKeySerial || der[0]&0x80 != 0 {
		return nil, false
	}
	if _, err := hex.Decode(buf[:16], []byte(issuer)); err != nil {
		return nil, false
	}
	for len(der) > 1 && der[0] == 0 {
		der = der[1:]
	}
	if len(der) == 1 && der[0] == 0 {
		der = der[:0] // serial 0: big.Int.Bytes() is empty
	}
	k := buf[:16]
	if withLen {
		k = append(k, byte(len(der)))
	}
	return append(k, der...), true
}

// AppendOCSPResponse is OCSPResponse for the serving path. serial is the
// DER INTEGER contents of a positive serial, as in a CertID. The stored
// DER is appended to dst; the returned response has Issuer, Hash, Status,
// ThisUpdate and NextUpdate set, and DER pointing into the returned slice
// (Serial is left empty: formatting it would allocate). A missing
// response, or a serial this path does not take, is certs.ErrNotFound
// itself, unwrapped. Answers found are kept in the answer cache until the
// next write (see answerCache).
func (s *Store) AppendOCSPResponse(ctx context.Context, dst []byte, issuer certs.Identifier, serial []byte, h crypto.Hash) ([]byte, certs.OCSPResponse, error) {
	var buf [16 + 1 + maxKeySerial + 1]byte
	key, ok := servingKey(&buf, issuer, serial, true)
	if !ok {
		return dst, certs.OCSPResponse{}, certs.ErrNotFound
	}
	key = append(key, byte(h))
	if err := ctx.Err(); err != nil {
		return dst, certs.OCSPResponse{}, err
	}
	gen := s.group.gen.Load() // before the read: see answerCache
	o := certs.OCSPResponse{Issuer: issuer, Hash: h}
	start := len(dst)
	if e := s.answers.get(key, gen); e != nil {
		o.Status, o.ThisUpdate, o.NextUpdate = e.status, e.this, e.next
		dst = append(dst, e.der...)
		o.DER = dst[start:]
		return dst, o, nil
	}
	if s.absent.get(key, gen) != nil {
		return dst, certs.OCSPResponse{}, certs.ErrNotFound
	}
	err := s.viewValue(ctx, bucketOCSP, key, func(v []byte) error {
		if v == nil {
			return certs.ErrNotFound
		}
		v, err := unseal(bucketOCSP, key, v) // on the mapped bytes: no copy
		if err != nil {
			return err
		}
		if len(v) < 17 || v[0] > byte(certs.Revoked) {
			return corrupt(bucketOCSP, key, errCorrupt)
		}
		o.Status = certs.Status(v[0])
		o.ThisUpdate = time.UnixMicro(int64(binary.BigEndian.Uint64(v[1:9]))).UTC()
		o.NextUpdate = time.UnixMicro(int64(binary.BigEndian.Uint64(v[9:17]))).UTC()
		dst = append(dst, v[17:]...)
		return nil
	})
	if err == certs.ErrNotFound {
		s.absent.put(key, gen, certs.OCSPResponse{})
	}
	if err != nil {
		return dst[:start], certs.OCSPResponse{}, err
	}
	o.DER = dst[start:]
	s.answers.miss()
	s.answers.put(key, gen, o)
	return dst, o, nil
}

// HasSerial reports whether CA issuer issued serial (the DER INTEGER
// contents of a positive serial, as in a CertID): what Lookup would find,
// deleted certificates included, without decoding the record. A serial
// this path does not take is an error wrapping certs.ErrInvalid.
func (s *Store) HasSerial(ctx context.Context, issuer certs.Identifier, serial []byte) (bool, error) {
	var buf [16 + 1 + maxKeySerial + 1]byte
	key, ok := servingKey(&buf, issuer, serial, true)
	if !ok {
		return false, certs.ErrInvalid
	}
	if err := ctx.Err(); err != nil {
		return false, err
	}
	// The absent cache's key for a serial is issuer ‖ length ‖ serial: an
	// answer's key is one byte longer for the same length byte, so the two
	// cannot meet. The bucket's key has no length byte.
	gen := s.group.gen.Load() // before the read: see answerCache
	if s.absent.get(key, gen) != nil {
		return false, nil
	}
	var bbuf [16 + 1 + maxKeySerial + 1]byte
	bucketKey, _ := servingKey(&bbuf, issuer, serial, false)
	found := false
	err := s.viewValue(ctx, bucketIssuerSerial, bucketKey, func(v []byte) error {
		if v == nil {
			return nil
		}
		if _, err := unseal(bucketIssuerSerial, bucketKey, v); err != nil {
			return err
		}
		found = true
		return nil
	})
	if err == nil && !found {
		s.absent.put(key, gen, certs.OCSPResponse{})
	}
	return found, err
}
