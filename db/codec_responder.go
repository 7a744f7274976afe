package db

import (
	"github.com/certstatus/certstatus/certs"
)

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
