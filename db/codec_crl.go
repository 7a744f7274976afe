package db

import (
	"github.com/certstatus/certstatus/certs"
)

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
