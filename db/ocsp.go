package db

import (
	"bytes"
	"context"
	"crypto"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/db/kv"
)

// PutResponder stores (replacing) the delegated OCSP responder of a CA.
func (s *Store) PutResponder(ctx context.Context, r certs.Responder) error {
	if err := r.Validate(); err != nil {
		return fmt.Errorf("db: put responder: %w", err)
	}
	val := encodeResponder(r)
	return s.update(ctx, func(tx kv.Tx) error {
		if tx.Get(bucketCAs, []byte(r.CA)) == nil {
			return fmt.Errorf("db: put responder: %w", certs.CANotFound(r.CA))
		}
		if err := put(tx, bucketResponders, []byte(r.CA), val); err != nil {
			return err
		}
		return appendAudit(ctx, tx, "ocsp.responder", r.CA, "responder=%s not_after=%s", r.Identifier(), r.NotAfter.Format(time.RFC3339))
	})
}

// Responder returns the delegated OCSP responder of CA ca.
func (s *Store) Responder(ctx context.Context, ca certs.Identifier) (certs.Responder, error) {
	var r certs.Responder
	err := s.view(ctx, func(tx kv.Tx) error {
		v, err := get(tx, bucketResponders, []byte(ca))
		if err != nil {
			return err
		}
		if v == nil {
			return fmt.Errorf("db: %w: responder of CA %s", certs.ErrNotFound, ca)
		}
		if r, err = decodeResponder(v); err != nil {
			return corrupt(bucketResponders, []byte(ca), err)
		}
		return nil
	})
	return r, err
}

// ocspPrefix is issuer(16) ‖ len(serial) ‖ serial: every hash variant of
// one certificate's responses.
func ocspPrefix(issuer certs.Identifier, serial certs.Serial) ([]byte, error) {
	ib, err := idBytes(issuer)
	if err != nil {
		return nil, err
	}
	sp, err := serialPrefix(serial)
	if err != nil {
		return nil, err
	}
	return append(ib, sp...), nil
}

func ocspKey(issuer certs.Identifier, serial certs.Serial, h crypto.Hash) ([]byte, error) {
	p, err := ocspPrefix(issuer, serial)
	if err != nil {
		return nil, err
	}
	return append(p, byte(h)), nil
}

func encodeOCSP(o certs.OCSPResponse) []byte {
	v := make([]byte, 0, 17+len(o.DER))
	v = append(v, byte(o.Status))
	v = binary.BigEndian.AppendUint64(v, uint64(o.ThisUpdate.UnixMicro()))
	v = binary.BigEndian.AppendUint64(v, uint64(o.NextUpdate.UnixMicro()))
	return append(v, o.DER...)
}

// decodeOCSP verifies and decodes a stored value; DER aliases v when
// copyDER is false.
func decodeOCSP(k, v []byte, copyDER bool) (certs.OCSPResponse, error) {
	var o certs.OCSPResponse
	v, err := unseal(bucketOCSP, k, v)
	if err != nil {
		return o, err
	}
	if len(v) < 17 || len(k) < 18 || len(k) != 16+1+int(k[16])+1 || v[0] > byte(certs.Revoked) {
		return o, corrupt(bucketOCSP, k, errCorrupt)
	}
	o.Issuer = idFromBytes(k[:16])
	o.Serial = serialFromKey(k[17 : 17+int(k[16])])
	o.Hash = crypto.Hash(k[len(k)-1])
	o.Status = certs.Status(v[0])
	o.ThisUpdate = time.UnixMicro(int64(binary.BigEndian.Uint64(v[1:9]))).UTC()
	o.NextUpdate = time.UnixMicro(int64(binary.BigEndian.Uint64(v[9:17]))).UTC()
	o.DER = v[17:]
	if copyDER {
		o.DER = clone(o.DER)
	}
	return o, nil
}

// ocspKeyOnly is the response a key of the ocsp bucket names, without its
// value: issuer, serial and hash.
func ocspKeyOnly(k []byte) (certs.OCSPResponse, error) {
	if len(k) < 18 || len(k) != 16+1+int(k[16])+1 {
		return certs.OCSPResponse{}, corrupt(bucketOCSP, k, errCorrupt)
	}
	return certs.OCSPResponse{Issuer: idFromBytes(k[:16]), Serial: serialFromKey(k[17 : len(k)-1]), Hash: crypto.Hash(k[len(k)-1])}, nil
}

// OCSPResponse returns the stored response for (issuer, serial, hash), or
// an error wrapping certs.ErrNotFound.
func (s *Store) OCSPResponse(ctx context.Context, issuer certs.Identifier, serial certs.Serial, h crypto.Hash) (certs.OCSPResponse, error) {
	key, err := ocspKey(issuer, serial, h)
	if err != nil {
		return certs.OCSPResponse{}, fmt.Errorf("db: OCSP response: %w", err)
	}
	var o certs.OCSPResponse
	err = s.view(ctx, func(tx kv.Tx) error {
		v := tx.Get(bucketOCSP, key)
		if v == nil {
			return fmt.Errorf("db: %w: OCSP response", certs.ErrNotFound)
		}
		var err error
		o, err = decodeOCSP(key, v, true)
		return err
	})
	return o, err
}

// stateOf returns the state of the certificate or CA the issuer_serial
// index holds under isKey; found is false when there is none.
func stateOf(tx kv.Tx, isKey []byte) (state certs.State, found bool, err error) {
	id, err := getIndexed(tx, isKey)
	if err != nil || id == "" {
		return 0, false, err
	}
	if tx.Get(bucketCAs, []byte(id)) != nil {
		c, err := getCA(tx, id)
		return c.State, err == nil, err
	}
	r, err := getRecordFields(tx, id, false)
	return r.State, err == nil, err
}

// putOCSP writes o unless the store knows better: the certificate's record
// must exist and say the same status (a response signed before a
// revocation is never written after it), and an existing response must not
// be newer. It reports whether o was written.
func putOCSP(tx kv.Tx, o certs.OCSPResponse) (bool, error) {
	isKey, err := issuerSerialKey(o.Issuer, o.Serial)
	if err != nil {
		return false, err
	}
	state, found, err := stateOf(tx, isKey)
	if err != nil || !found {
		return false, err
	}
	if (state == certs.StateRevoked) != (o.Status == certs.Revoked) {
		return false, nil
	}
	return writeOCSP(tx, o)
}

// writeOCSP is putOCSP for a caller that knows o tells its certificate's
// status (Put, which has the record in hand): o is written unless a newer
// response with the same status is stored.
func writeOCSP(tx kv.Tx, o certs.OCSPResponse) (bool, error) {
	key, err := ocspKey(o.Issuer, o.Serial, o.Hash)
	if err != nil {
		return false, err
	}
	if old := tx.Get(bucketOCSP, key); old != nil {
		if prev, err := decodeOCSP(key, old, false); err == nil && prev.ThisUpdate.After(o.ThisUpdate) && prev.Status == o.Status {
			return false, nil
		}
	}
	return true, put(tx, bucketOCSP, key, encodeOCSP(o))
}

// deleteOCSP removes every hash variant of (issuer, serial).
func deleteOCSP(tx kv.Tx, issuer certs.Identifier, serial certs.Serial) error {
	prefix, err := ocspPrefix(issuer, serial)
	if err != nil {
		return err
	}
	c := tx.Cursor(bucketOCSP)
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) && len(k) == len(prefix)+1; k, _ = c.Seek(prefix) {
		if err := tx.Delete(bucketOCSP, k); err != nil {
			return err
		}
	}
	return nil
}

// PutOCSPResponses stores responses, each only if it still tells the truth
// (see putOCSP), and returns how many were written.
func (s *Store) PutOCSPResponses(ctx context.Context, rs ...certs.OCSPResponse) (int, error) {
	for _, o := range rs {
		if err := o.Validate(); err != nil {
			return 0, fmt.Errorf("db: put OCSP response: %w", err)
		}
	}
	n := 0
	err := s.update(ctx, func(tx kv.Tx) error {
		n = 0
		for _, o := range rs {
			ok, err := putOCSP(tx, o)
			if err != nil {
				return err
			}
			if ok {
				n++
			}
		}
		return nil
	})
	return n, err
}

// dueScanMax is how many responses one OCSPResponsesDue call examines at
// most (~10 ms of a core).
var dueScanMax = 16384

// OCSPResponsesDue calls fn, in key order from after (exclusive; nil for
// the start), with the responses whose ThisUpdate is before cutoff, at
// most limit of them, and returns the key to continue after (nil at the
// end). It also returns early after examining dueScanMax responses, with
// fewer than limit or none, so that a caller paging through a large store
// can pace itself between calls (a whole pass over a million answers in one
// call was 0.65 s of uninterrupted CPU). The responses' DER is copied. fn
// runs inside a read transaction and must not write to the store (bbolt
// would deadlock on a remap): collect, return, then write.
func (s *Store) OCSPResponsesDue(ctx context.Context, cutoff time.Time, after []byte, limit int, fn func(certs.OCSPResponse) error) ([]byte, error) {
	var next []byte
	cut := uint64(cutoff.UnixMicro())
	err := s.view(ctx, func(tx kv.Tx) error {
		c := tx.Cursor(bucketOCSP)
		k, v := c.First()
		if after != nil {
			k, v = c.Seek(after)
			if k != nil && bytes.Equal(k, after) {
				k, v = c.Next()
			}
		}
		n, examined := 0, 0
		var last []byte
		for ; k != nil; k, v = c.Next() {
			if examined == dueScanMax {
				next = clone(last)
				return nil
			}
			examined++
			var o certs.OCSPResponse
			b, err := unseal(bucketOCSP, k, v)
			if err == nil && len(b) < 17 {
				err = corrupt(bucketOCSP, k, errCorrupt)
			}
			if err != nil {
				// A corrupt answer is due at once, named by its key
				// alone: the refresh signs it again from the record,
				// and the new answer replaces it.
				s.noteCorrupt(err)
				if o, err = ocspKeyOnly(k); err != nil {
					last = k
					continue
				}
			} else if binary.BigEndian.Uint64(b[1:9]) >= cut {
				last = k
				continue
			}
			if n == limit {
				next = clone(last)
				return nil
			}
			last = k
			if o.Issuer == "" {
				if o, err = decodeOCSP(k, v, true); err != nil {
					return err
				}
			}
			if err := fn(o); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return next, err
}
