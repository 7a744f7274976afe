package db

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/db/kv"
)

// Problem is one inconsistency found by Check.
type Problem struct {
	Bucket string
	Key    string
	Msg    string
}

func (p Problem) String() string { return fmt.Sprintf("%s/%s: %s", p.Bucket, p.Key, p.Msg) }

// Check verifies the database: first the file's page structure, read
// with plain reads (checkStructure: a damaged page is reported, never met
// by bbolt), then from one transaction bbolt's own page check, every
// value's checksum, and every record (it decodes, holds its invariants, its
// identifier is that of its DER and the DER parses), every reference
// (issuer and parent CAs exist) and every index entry in both directions.
// It returns the problems found; an error means the check itself could not
// run. A store on an engine without a file gets the value checks alone,
// from one read transaction.
func (s *Store) Check(ctx context.Context) ([]Problem, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if s.bolt == nil {
		var ps []Problem
		err := s.view(ctx, func(tx kv.Tx) error {
			ps = nil
			checkTx(tx, func(b []byte, k string, format string, a ...any) {
				ps = append(ps, Problem{Bucket: string(b), Key: k, Msg: fmt.Sprintf(format, a...)})
			})
			return nil
		})
		return ps, err
	}
	tx, err := s.bolt.Begin(false) // fails on a closed store
	if err != nil {
		return nil, fmt.Errorf("db: check: %w", err)
	}
	tx.Rollback()
	return s.checkValues(true)
}

// CheckFile checks the database in dataDir as Check does, without opening
// it as a Store: it reports on a file Open refuses (truncated, zeroed
// pages, a damaged freelist), and nothing it meets can panic or fault the
// process. It returns the problems and the file's schema version (0 when
// unknown); an error means the check could not run (no file, or another
// process holds it: see ErrLocked).
func CheckFile(ctx context.Context, dataDir string, lockTimeout time.Duration) ([]Problem, int, error) {
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	path := filepath.Join(dataDir, FileName)
	fi, err := os.Stat(path)
	if err != nil {
		return nil, 0, fmt.Errorf("db: check: %w", err)
	}
	if fi.Size() == 0 {
		return []Problem{{Bucket: "bbolt", Key: "-", Msg: "the file is empty"}}, 0, nil
	}
	if lockTimeout == 0 {
		lockTimeout = 500 * time.Millisecond
	}
	lock, err := lockFile(path, true, lockTimeout)
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, 0, fmt.Errorf("db: data directory %s is in use by another certstatus process (stop it first, or use its API): %w", dataDir, ErrLocked)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("db: check: %w", err)
	}
	ps, err := checkStructure(path, -1)
	lock.Close()
	if err != nil {
		return nil, 0, fmt.Errorf("db: check: %w", err)
	}
	if len(ps) > 0 {
		return ps, 0, nil // bbolt must not read a damaged file
	}
	bdb, err := func() (bdb *bolt.DB, err error) {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("opening the file failed: %v", p)
			}
		}()
		defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
		return bolt.Open(path, 0o600, &bolt.Options{Timeout: lockTimeout, FreelistType: bolt.FreelistMapType})
	}()
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, 0, fmt.Errorf("db: data directory %s is in use by another certstatus process (stop it first, or use its API): %w", dataDir, ErrLocked)
	}
	if err != nil {
		return []Problem{{Bucket: "bbolt", Key: "-", Msg: err.Error()}}, 0, nil
	}
	defer bdb.Close()
	s := &Store{bolt: bdb, dir: dataDir, corruptSeen: map[string]bool{}}
	ps, err = s.checkValues(false) // walked above
	s.bolt.View(func(tx *bolt.Tx) error {
		s.schema, _ = readVersion(tx)
		return nil
	})
	return ps, s.schema, err
}

// checkValues is Check past the structural walk (made first if walk is
// set, once concurrent writers wait), with a panic or fault inside bbolt
// reported as a problem.
func (s *Store) checkValues(walk bool) (ps []Problem, err error) {
	add := func(b []byte, k string, format string, a ...any) {
		ps = append(ps, Problem{Bucket: string(b), Key: k, Msg: fmt.Sprintf(format, a...)})
	}
	defer func() {
		if p := recover(); p != nil {
			add([]byte("bbolt"), "-", "reading the file failed: %v", p)
			err = nil
		}
	}()
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	// A writable transaction, rolled back: bbolt's page check compares
	// against the freelist, which concurrent writers would move under a
	// read transaction (false "reachable freed" reports). Writers wait. A
	// store that takes no more writes (Writable) has none, and its writer
	// lock may be held for good: a read transaction then.
	tx, err := s.bolt.Begin(s.group == nil || s.group.broken.Load() == nil)
	if err != nil {
		return nil, fmt.Errorf("db: check: %w", err)
	}
	defer tx.Rollback()
	if walk {
		if ps, err := checkStructure(s.Path(), -1); err != nil || len(ps) > 0 {
			return ps, err // bbolt must not read a damaged file
		}
	}
	err = func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			add([]byte("bbolt"), "-", "%v", err)
		}
		if len(ps) > 0 {
			return nil
		}
		v, err := readVersion(tx)
		if err != nil {
			add(bucketMeta, string(keySchema), "%v", err)
		} else if v != SchemaVersion() {
			add(bucketMeta, string(keySchema), "schema version %d, want %d", v, SchemaVersion())
		}
		for _, b := range sealedBuckets {
			if tx.Bucket(b) == nil {
				add(b, "-", "bucket missing")
			}
		}
		if len(ps) > 0 {
			return nil
		}
		if v := tx.Bucket(bucketMeta).Get(keyCreated); v != nil {
			if _, err := unseal(bucketMeta, keyCreated, v); err != nil {
				add(bucketMeta, string(keyCreated), "%v", err)
			}
		}
		checkTx(kv.BoltTx(tx), add)
		return nil
	}(tx)
	return ps, err
}

// checkTx is the part of Check that reads values alone, through the
// store's seam: every value's checksum, every record, reference and index
// entry, the counts, the audit chain. add reports a problem.
func checkTx(tx kv.Tx, add func([]byte, string, string, ...any)) {
	ck := &checker{tx: tx, add: add, bad: map[string]bool{}, cas: map[certs.Identifier]certs.CA{}}
	ck.checksums()
	ck.caRecords()
	ck.certificates()
	ck.indexes()
	ck.answers()
	checkCreatedIndex(tx, add)
	checkCounts(tx, add)
	checkAuditCA(tx, add)
	ck.responders()
	ck.auditTrail()
	ck.accessKeys()
	ck.settings()
}

// checker is one pass of checkValues over a transaction: each method
// checks one kind of value, skipping those that failed their checksum
// (reported once, by checksums).
type checker struct {
	tx  kv.Tx
	add func([]byte, string, string, ...any)
	bad map[string]bool               // bucket\x00key of values that failed their checksum
	cas map[certs.Identifier]certs.CA // the CAs that decode, by cAs
}

// checksums reports every value that fails its checksum, first.
func (ck *checker) checksums() {
	for _, b := range sealedBuckets {
		forEach(ck.tx, b, func(k, v []byte) error {
			if _, err := unseal(b, k, v); err != nil {
				ck.add(b, keyString(string(b), k), "%v", err)
				ck.bad[string(b)+"\x00"+string(k)] = true
			}
			return nil
		})
	}
}

// val is the value under k of bucket b without its checksum; nil when
// there is none or it failed its checksum.
func (ck *checker) val(b, k []byte) []byte {
	v := ck.tx.Get(b, k)
	if v == nil || ck.bad[string(b)+"\x00"+string(k)] {
		return nil
	}
	return v[:len(v)-sumLen]
}

// each calls fn with every value of bucket b that passed its checksum.
func (ck *checker) each(b []byte, fn func(k, v []byte)) {
	forEach(ck.tx, b, func(k, v []byte) error {
		if !ck.bad[string(b)+"\x00"+string(k)] {
			fn(k, v[:len(v)-sumLen])
		}
		return nil
	})
}

// present reports whether bucket b holds k, whatever its value.
func (ck *checker) present(b, k []byte) bool { return ck.tx.Get(b, k) != nil }

// record is the certificate or CA (as a Record) stored under id: found is
// false when neither is; ok is false when it does not decode (reported
// with its bucket).
func (ck *checker) record(id certs.Identifier) (rec certs.Record, found, ok bool) {
	if ck.present(bucketCAs, []byte(id)) {
		cv := ck.val(bucketCAs, []byte(id))
		c, err := decodeCA(cv)
		return c.AsRecord(), true, cv != nil && err == nil
	}
	if ck.present(bucketCerts, []byte(id)) {
		rv := ck.val(bucketCerts, []byte(id))
		r, err := decodeRecord(rv)
		return r, true, rv != nil && err == nil
	}
	return certs.Record{}, false, false
}

// caRecords checks every CA record, its parent and its index entry.
func (ck *checker) caRecords() {
	add := ck.add
	ck.each(bucketCAs, func(k, v []byte) {
		c, err := decodeCA(v)
		if err != nil {
			add(bucketCAs, string(k), "does not decode: %v", err)
			return
		}
		if string(c.Identifier) != string(k) {
			add(bucketCAs, string(k), "record says identifier %s", c.Identifier)
		}
		if err := c.Validate(); err != nil {
			add(bucketCAs, string(k), "%v", err)
		}
		checkDER(add, bucketCAs, string(k), c.DER, c.Identifier)
		ck.cas[c.Identifier] = c
	})
	for id, c := range ck.cas {
		if c.Kind == certs.KindSubCA {
			if _, ok := ck.cas[c.Parent]; !ok {
				add(bucketCAs, string(id), "parent CA %s is missing", c.Parent)
			}
			checkIndex(ck.val, add, c.Parent, c.Serial, id)
		}
	}
}

// certificates checks every certificate record, its issuer and its index
// entries.
func (ck *checker) certificates() {
	add := ck.add
	ck.each(bucketCerts, func(k, v []byte) {
		r, err := decodeRecord(v)
		if err != nil {
			add(bucketCerts, string(k), "does not decode: %v", err)
			return
		}
		if string(r.Identifier) != string(k) {
			add(bucketCerts, string(k), "record says identifier %s", r.Identifier)
		}
		if err := r.Validate(); err != nil {
			add(bucketCerts, string(k), "%v", err)
			return
		}
		checkDER(add, bucketCerts, string(k), r.DER, r.Identifier)
		if err := checkSerial(r.DER, r.Serial); err != nil {
			add(bucketCerts, string(k), "%v", err)
		}
		if _, ok := ck.cas[r.Issuer]; !ok {
			add(bucketCerts, string(k), "issuing CA %s is missing", r.Issuer)
		}
		checkIndex(ck.val, add, r.Issuer, r.Serial, r.Identifier)
		if sk, err := serialKey(r.Serial, r.Identifier); err != nil || !ck.present(bucketSerials, sk) {
			add(bucketSerials, string(r.Serial), "no entry for certificate %s", r.Identifier)
		}
		if r.CustomIdentifier != "" {
			if got := ck.val(bucketCustom, []byte(r.CustomIdentifier)); string(got) != string(r.Identifier) {
				add(bucketCustom, r.CustomIdentifier, "points to %q, want %s", got, r.Identifier)
			}
		}
	})
}

// indexes checks the reverse direction: every index entry points at a
// record that agrees.
func (ck *checker) indexes() {
	add := ck.add
	ck.each(bucketIssuerSerial, func(k, v []byte) {
		if len(k) < 16 {
			add(bucketIssuerSerial, fmt.Sprintf("%x", k), "short key")
			return
		}
		if len(v) != certs.IdentifierLen/2 {
			add(bucketIssuerSerial, keyString(string(bucketIssuerSerial), k), "value of %d bytes, want an identifier", len(v))
			return
		}
		id := idFromBytes(v)
		issuer := idFromBytes(k[:16])
		rec, found, ok := ck.record(id)
		if !found {
			add(bucketIssuerSerial, fmt.Sprintf("%x", k), "points to missing %s", id)
			return
		}
		if !ok {
			return // reported with its bucket
		}
		if want, err := issuerSerialKey(rec.Issuer, rec.Serial); err != nil || !bytes.Equal(want, k) || rec.Issuer != issuer {
			add(bucketIssuerSerial, fmt.Sprintf("%x", k), "points to %s whose issuer/serial is %s/%s", id, rec.Issuer, rec.Serial)
		}
	})
	ck.each(bucketSerials, func(k, _ []byte) {
		if len(k) < 1 || len(k) != 1+int(k[0])+16 {
			add(bucketSerials, fmt.Sprintf("%x", k), "malformed key")
			return
		}
		id := idFromBytes(k[1+int(k[0]):])
		if !ck.present(bucketCerts, []byte(id)) {
			add(bucketSerials, fmt.Sprintf("%x", k), "points to missing certificate %s", id)
			return
		}
		r, err := decodeRecord(ck.val(bucketCerts, []byte(id)))
		if err != nil {
			return // reported with the certs bucket
		}
		if want, err := serialPrefix(r.Serial); err != nil || !bytes.Equal(want, k[:1+int(k[0])]) {
			add(bucketSerials, fmt.Sprintf("%x", k), "points to %s whose serial is %s", id, r.Serial)
		}
	})
	ck.each(bucketCustom, func(k, v []byte) {
		if !ck.present(bucketCerts, v) {
			add(bucketCustom, string(k), "points to missing certificate %s", v)
			return
		}
		if r, err := decodeRecord(ck.val(bucketCerts, v)); err == nil && r.CustomIdentifier != string(k) {
			add(bucketCustom, string(k), "certificate %s has custom identifier %q", v, r.CustomIdentifier)
		}
	})
}

// answers checks that every pre-signed answer is about a stored
// certificate and says what its record says.
func (ck *checker) answers() {
	add := ck.add
	forEach(ck.tx, bucketOCSP, func(k, sealed []byte) error {
		if ck.bad[string(bucketOCSP)+"\x00"+string(k)] {
			return nil
		}
		o, err := decodeOCSP(k, sealed, false)
		if err != nil {
			add(bucketOCSP, keyString(string(bucketOCSP), k), "does not decode: %v", err)
			return nil
		}
		isKey, err := issuerSerialKey(o.Issuer, o.Serial)
		if err != nil {
			add(bucketOCSP, fmt.Sprintf("%x", k), "%v", err)
			return nil
		}
		if !ck.present(bucketIssuerSerial, isKey) {
			add(bucketOCSP, fmt.Sprintf("%x", k), "response for %s/%s, which is not stored", o.Issuer, o.Serial)
			return nil
		}
		idb := ck.val(bucketIssuerSerial, isKey)
		if len(idb) != certs.IdentifierLen/2 {
			return nil // reported with its bucket
		}
		id := idFromBytes(idb)
		rec, _, ok := ck.record(id)
		if !ok {
			return nil
		}
		if revoked := rec.State == certs.StateRevoked; revoked != (o.Status == certs.Revoked) {
			add(bucketOCSP, fmt.Sprintf("%x", k), "response says %v but certificate %s is %s", o.Status, id, map[bool]string{true: "revoked", false: "not revoked"}[revoked])
		}
		return nil
	})
}

// responders checks the delegated responder records against their CAs.
func (ck *checker) responders() {
	ck.each(bucketResponders, func(k, v []byte) {
		r, err := decodeResponder(v)
		if err != nil {
			ck.add(bucketResponders, string(k), "does not decode: %v", err)
			return
		}
		if string(r.CA) != string(k) {
			ck.add(bucketResponders, string(k), "record says CA %s", r.CA)
		}
		if _, ok := ck.cas[r.CA]; !ok {
			ck.add(bucketResponders, string(k), "CA %s is missing", r.CA)
		}
	})
}

// auditTrail verifies the audit hash chain, leaving an event that failed
// its checksum to checksums.
func (ck *checker) auditTrail() {
	if _, err := verifyAudit(ck.tx); err != nil {
		var ae *AuditError
		if errors.As(err, &ae) {
			if !ck.bad[string(bucketAudit)+"\x00"+string(binary.BigEndian.AppendUint64(nil, ae.Seq))] {
				ck.add(bucketAudit, fmt.Sprint(ae.Seq), "%s", ae.Msg)
			}
		} else {
			ck.add(bucketAudit, "-", "%v", err)
		}
	}
}

// accessKeys checks every AccessKey record.
func (ck *checker) accessKeys() {
	ck.each(bucketAccessKeys, func(k, v []byte) {
		ak, err := decodeAccessKey(v)
		if err != nil {
			ck.add(bucketAccessKeys, string(k), "does not decode: %v", err)
			return
		}
		if ak.ID != string(k) {
			ck.add(bucketAccessKeys, string(k), "record says id %s", ak.ID)
		}
		if err := ak.Validate(); err != nil {
			ck.add(bucketAccessKeys, string(k), "%v", err)
		}
	})
}

func checkDER(add func([]byte, string, string, ...any), b []byte, k string, der []byte, id certs.Identifier) {
	if certs.IdentifierOf(der) != id {
		add(b, k, "identifier does not match the certificate's DER")
	}
	if _, err := x509.ParseCertificate(der); err != nil {
		add(b, k, "certificate does not parse: %v", err)
	}
}

func checkIndex(val func(b, k []byte) []byte, add func([]byte, string, string, ...any), issuer certs.Identifier, serial certs.Serial, id certs.Identifier) {
	key, err := issuerSerialKey(issuer, serial)
	if err != nil {
		add(bucketIssuerSerial, string(id), "%v", err)
		return
	}
	got := val(bucketIssuerSerial, key)
	if got == nil {
		add(bucketIssuerSerial, string(issuer)+"/"+string(serial), "no entry for %s", id)
	} else if idFromBytes(got) != id {
		add(bucketIssuerSerial, string(issuer)+"/"+string(serial), "points to %s, want %s", idFromBytes(got), id)
	}
}
