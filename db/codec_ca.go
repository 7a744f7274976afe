package db

import (
	"fmt"

	"github.com/certstatus/certstatus/certs"
)

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
