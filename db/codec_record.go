package db

import (
	"errors"

	"github.com/certstatus/certstatus/certs"
)

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
