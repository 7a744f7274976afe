package db

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/certstatus/certstatus/certs"
)

// Problem is one inconsistency found by Check.
type Problem struct {
	Bucket string
	Key    string
	Msg    string
}

func (p Problem) String() string { return fmt.Sprintf("%s/%s: %s", p.Bucket, p.Key, p.Msg) }

// Check verifies the database from one read transaction: bbolt's page
// structure, then every record (it decodes, holds its invariants, its
// identifier is that of its DER and the DER parses), every reference (issuer
// and parent CAs exist) and every index entry in both directions. It returns
// the problems found; an error means the check itself could not run.
func (s *Store) Check(ctx context.Context) ([]Problem, error) {
	var ps []Problem
	add := func(b []byte, k string, format string, a ...any) {
		ps = append(ps, Problem{Bucket: string(b), Key: k, Msg: fmt.Sprintf(format, a...)})
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// A writable transaction, rolled back: bbolt's page check compares
	// against the freelist, which concurrent writers would move under a
	// read transaction (false "reachable freed" reports). Writers wait.
	tx, err := s.bolt.Begin(true)
	if err != nil {
		return nil, fmt.Errorf("db: check: %w", err)
	}
	defer tx.Rollback()
	err = func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			add([]byte("bbolt"), "-", "%v", err)
		}
		if v := readVersion(tx); v != SchemaVersion() {
			add(bucketMeta, string(keySchema), "schema version %d, want %d", v, SchemaVersion())
		}
		for _, b := range [][]byte{bucketCAs, bucketCerts, bucketIssuerSerial, bucketSerials, bucketCustom, bucketAccessKeys, bucketTokens, bucketResponders, bucketOCSP, bucketCRLs, bucketCRLRevisions, bucketAudit} {
			if tx.Bucket(b) == nil {
				add(b, "-", "bucket missing")
			}
		}
		if len(ps) > 0 {
			return nil
		}
		cas := map[certs.Identifier]certs.CA{}
		tx.Bucket(bucketCAs).ForEach(func(k, v []byte) error {
			c, err := decodeCA(v)
			if err != nil {
				add(bucketCAs, string(k), "does not decode: %v", err)
				return nil
			}
			if string(c.Identifier) != string(k) {
				add(bucketCAs, string(k), "record says identifier %s", c.Identifier)
			}
			if err := c.Validate(); err != nil {
				add(bucketCAs, string(k), "%v", err)
			}
			checkDER(add, bucketCAs, string(k), c.DER, c.Identifier)
			cas[c.Identifier] = c
			return nil
		})
		for id, c := range cas {
			if c.Kind == certs.KindSubCA {
				if _, ok := cas[c.Parent]; !ok {
					add(bucketCAs, string(id), "parent CA %s is missing", c.Parent)
				}
				checkIndex(tx, add, c.Parent, c.Serial, id)
			}
		}
		n := 0
		tx.Bucket(bucketCerts).ForEach(func(k, v []byte) error {
			n++
			r, err := decodeRecord(v)
			if err != nil {
				add(bucketCerts, string(k), "does not decode: %v", err)
				return nil
			}
			if string(r.Identifier) != string(k) {
				add(bucketCerts, string(k), "record says identifier %s", r.Identifier)
			}
			if err := r.Validate(); err != nil {
				add(bucketCerts, string(k), "%v", err)
				return nil
			}
			checkDER(add, bucketCerts, string(k), r.DER, r.Identifier)
			if err := checkSerial(r.DER, r.Serial); err != nil {
				add(bucketCerts, string(k), "%v", err)
			}
			if _, ok := cas[r.Issuer]; !ok {
				add(bucketCerts, string(k), "issuing CA %s is missing", r.Issuer)
			}
			checkIndex(tx, add, r.Issuer, r.Serial, r.Identifier)
			if sk, err := serialKey(r.Serial, r.Identifier); err != nil || tx.Bucket(bucketSerials).Get(sk) == nil {
				add(bucketSerials, string(r.Serial), "no entry for certificate %s", r.Identifier)
			}
			if r.CustomIdentifier != "" {
				if got := tx.Bucket(bucketCustom).Get([]byte(r.CustomIdentifier)); string(got) != string(r.Identifier) {
					add(bucketCustom, r.CustomIdentifier, "points to %q, want %s", got, r.Identifier)
				}
			}
			return nil
		})
		// Reverse direction: every index entry points at a record that agrees.
		tx.Bucket(bucketIssuerSerial).ForEach(func(k, v []byte) error {
			id := idFromBytes(v)
			if len(k) < 16 {
				add(bucketIssuerSerial, fmt.Sprintf("%x", k), "short key")
				return nil
			}
			issuer := idFromBytes(k[:16])
			var rec certs.Record
			if cv := tx.Bucket(bucketCAs).Get([]byte(id)); cv != nil {
				c, err := decodeCA(cv)
				if err != nil {
					return nil // reported above
				}
				rec = c.AsRecord()
			} else if rv := tx.Bucket(bucketCerts).Get([]byte(id)); rv != nil {
				var err error
				if rec, err = decodeRecord(rv); err != nil {
					return nil
				}
			} else {
				add(bucketIssuerSerial, fmt.Sprintf("%x", k), "points to missing %s", id)
				return nil
			}
			if want, err := issuerSerialKey(rec.Issuer, rec.Serial); err != nil || !bytes.Equal(want, k) || rec.Issuer != issuer {
				add(bucketIssuerSerial, fmt.Sprintf("%x", k), "points to %s whose issuer/serial is %s/%s", id, rec.Issuer, rec.Serial)
			}
			return nil
		})
		tx.Bucket(bucketSerials).ForEach(func(k, _ []byte) error {
			if len(k) < 1 || len(k) != 1+int(k[0])+16 {
				add(bucketSerials, fmt.Sprintf("%x", k), "malformed key")
				return nil
			}
			id := idFromBytes(k[1+int(k[0]):])
			rv := tx.Bucket(bucketCerts).Get([]byte(id))
			if rv == nil {
				add(bucketSerials, fmt.Sprintf("%x", k), "points to missing certificate %s", id)
				return nil
			}
			r, err := decodeRecord(rv)
			if err != nil {
				return nil // reported with the certs bucket
			}
			if want, err := serialPrefix(r.Serial); err != nil || !bytes.Equal(want, k[:1+int(k[0])]) {
				add(bucketSerials, fmt.Sprintf("%x", k), "points to %s whose serial is %s", id, r.Serial)
			}
			return nil
		})
		tx.Bucket(bucketCustom).ForEach(func(k, v []byte) error {
			rv := tx.Bucket(bucketCerts).Get(v)
			if rv == nil {
				add(bucketCustom, string(k), "points to missing certificate %s", v)
				return nil
			}
			if r, err := decodeRecord(rv); err == nil && r.CustomIdentifier != string(k) {
				add(bucketCustom, string(k), "certificate %s has custom identifier %q", v, r.CustomIdentifier)
			}
			return nil
		})
		tx.Bucket(bucketOCSP).ForEach(func(k, v []byte) error {
			o, err := decodeOCSP(k, v, false)
			if err != nil {
				add(bucketOCSP, fmt.Sprintf("%x", k), "does not decode: %v", err)
				return nil
			}
			isKey, err := issuerSerialKey(o.Issuer, o.Serial)
			if err != nil {
				add(bucketOCSP, fmt.Sprintf("%x", k), "%v", err)
				return nil
			}
			idb := tx.Bucket(bucketIssuerSerial).Get(isKey)
			if idb == nil {
				add(bucketOCSP, fmt.Sprintf("%x", k), "response for %s/%s, which is not stored", o.Issuer, o.Serial)
				return nil
			}
			id := idFromBytes(idb)
			var revoked bool
			if cv := tx.Bucket(bucketCAs).Get([]byte(id)); cv != nil {
				if c, err := decodeCA(cv); err == nil {
					revoked = c.State == certs.StateRevoked
				}
			} else if rv := tx.Bucket(bucketCerts).Get([]byte(id)); rv != nil {
				if r, err := decodeRecord(rv); err == nil {
					revoked = r.State == certs.StateRevoked
				}
			}
			if revoked != (o.Status == certs.Revoked) {
				add(bucketOCSP, fmt.Sprintf("%x", k), "response says %v but certificate %s is %s", o.Status, id, map[bool]string{true: "revoked", false: "not revoked"}[revoked])
			}
			return nil
		})
		checkCreatedIndex(tx, add)
		checkCounts(tx, add)
		tx.Bucket(bucketResponders).ForEach(func(k, v []byte) error {
			r, err := decodeResponder(v)
			if err != nil {
				add(bucketResponders, string(k), "does not decode: %v", err)
				return nil
			}
			if string(r.CA) != string(k) {
				add(bucketResponders, string(k), "record says CA %s", r.CA)
			}
			if _, ok := cas[r.CA]; !ok {
				add(bucketResponders, string(k), "CA %s is missing", r.CA)
			}
			return nil
		})
		if _, err := verifyAudit(tx); err != nil {
			var ae *AuditError
			if errors.As(err, &ae) {
				add(bucketAudit, fmt.Sprint(ae.Seq), "%s", ae.Msg)
			} else {
				add(bucketAudit, "-", "%v", err)
			}
		}
		tx.Bucket(bucketAccessKeys).ForEach(func(k, v []byte) error {
			ak, err := decodeAccessKey(v)
			if err != nil {
				add(bucketAccessKeys, string(k), "does not decode: %v", err)
				return nil
			}
			if ak.ID != string(k) {
				add(bucketAccessKeys, string(k), "record says id %s", ak.ID)
			}
			if err := ak.Validate(); err != nil {
				add(bucketAccessKeys, string(k), "%v", err)
			}
			return nil
		})
		return nil
	}(tx)
	return ps, err
}

func checkDER(add func([]byte, string, string, ...any), b []byte, k string, der []byte, id certs.Identifier) {
	if certs.IdentifierOf(der) != id {
		add(b, k, "identifier does not match the certificate's DER")
	}
	if _, err := x509.ParseCertificate(der); err != nil {
		add(b, k, "certificate does not parse: %v", err)
	}
}

func checkIndex(tx *bolt.Tx, add func([]byte, string, string, ...any), issuer certs.Identifier, serial certs.Serial, id certs.Identifier) {
	key, err := issuerSerialKey(issuer, serial)
	if err != nil {
		add(bucketIssuerSerial, string(id), "%v", err)
		return
	}
	got := tx.Bucket(bucketIssuerSerial).Get(key)
	if got == nil {
		add(bucketIssuerSerial, string(issuer)+"/"+string(serial), "no entry for %s", id)
	} else if idFromBytes(got) != id {
		add(bucketIssuerSerial, string(issuer)+"/"+string(serial), "points to %s, want %s", idFromBytes(got), id)
	}
}
