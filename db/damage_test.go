package db_test

import (
	"context"
	"crypto"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/db"
	"github.com/certstatus/certstatus/db/dbtest"
)

// damageFixture is a closed store of enough certificates that the certs
// bucket spans several pages, one of them revoked with a stored answer.
type damageFixture struct {
	dir    string
	sub    dbtest.Issuer
	leaves []certs.Record
}

func newDamageFixture(t *testing.T) damageFixture {
	t.Helper()
	f := damageFixture{dir: t.TempDir()}
	s, err := db.Open(f.dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	root := dbtest.RootCA("Damage Root")
	f.sub = dbtest.SubCA(root, 0x10, "Damage Sub")
	mustPutCA(t, s, root.CA, f.sub.CA)
	now := time.Now().UTC().Truncate(time.Second)
	for i := range 40 {
		r := dbtest.Leaf(f.sub, int64(0x1000+i))
		o := certs.OCSPResponse{Issuer: r.Issuer, Serial: r.Serial, Hash: crypto.SHA1, Status: certs.Good, DER: []byte("good"), ThisUpdate: now, NextUpdate: now.Add(time.Hour)}
		if err := s.Put(ctx, r, o); err != nil {
			t.Fatal(err)
		}
		f.leaves = append(f.leaves, r)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return f
}

// refused checks that err is Open's refusal of a damaged file, saying what
// to do.
func refused(t *testing.T, err error, what string) {
	t.Helper()
	if !errors.Is(err, db.ErrDamaged) {
		t.Fatalf("Open = %v, want ErrDamaged", err)
	}
	for _, want := range []string{what, "certstatus check", "restore the last backup"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Open = %v\nwant it to mention %q", err, want)
		}
	}
}

// A truncated file: check reports it, Open refuses it, nothing crashes.
func TestDamage_TruncatedFile(t *testing.T) {
	f := newDamageFixture(t)
	path := filepath.Join(f.dir, db.FileName)
	size, root := dbtest.BucketRoot(t, path, "certs")
	for _, size := range []int64{root*int64(size) + 100, 3 * 4096, 4096 + 100} {
		if err := os.Truncate(path, size); err != nil {
			t.Fatal(err)
		}
		ps, _, err := db.CheckFile(t.Context(), f.dir, 0)
		if err != nil || len(ps) == 0 {
			t.Fatalf("size %d: CheckFile = %v, %v; want problems", size, ps, err)
		}
		_, err = db.Open(f.dir, nil)
		if err == nil {
			t.Fatalf("size %d: Open succeeded", size)
		}
		if size > 2*4096 {
			refused(t, err, "truncated")
		}
	}
}

// A zeroed page — the root of the certs bucket, a page of the OCSP answers,
// the freelist — is refused at Open, naming check and the backup; check
// reports the page.
func TestDamage_ZeroedPage(t *testing.T) {
	for _, bucket := range []string{"certs", "ocsp", "issuer_serial"} {
		t.Run(bucket, func(t *testing.T) {
			f := newDamageFixture(t)
			path := filepath.Join(f.dir, db.FileName)
			size, root := dbtest.BucketRoot(t, path, bucket)
			dbtest.ZeroPage(t, path, size, root)
			_, err := db.Open(f.dir, nil)
			refused(t, err, "zeroed")
			ps, _, err := db.CheckFile(t.Context(), f.dir, 0)
			if err != nil || len(ps) == 0 || !strings.Contains(ps[0].String(), "zeroed") {
				t.Errorf("CheckFile = %v, %v; want the zeroed page", ps, err)
			}
		})
	}
	t.Run("both meta pages", func(t *testing.T) {
		f := newDamageFixture(t)
		path := filepath.Join(f.dir, db.FileName)
		size, _ := dbtest.BucketRoot(t, path, "certs")
		dbtest.ZeroPage(t, path, size, 0)
		dbtest.ZeroPage(t, path, size, 1)
		_, err := db.Open(f.dir, nil)
		refused(t, err, "both meta pages are invalid")
		if ps, _, err := db.CheckFile(t.Context(), f.dir, 0); err != nil || len(ps) == 0 {
			t.Errorf("CheckFile = %v, %v", ps, err)
		}
	})
	t.Run("empty file", func(t *testing.T) {
		f := newDamageFixture(t)
		if err := os.Truncate(filepath.Join(f.dir, db.FileName), 0); err != nil {
			t.Fatal(err)
		}
		if ps, _, err := db.CheckFile(t.Context(), f.dir, 0); err != nil || len(ps) == 0 {
			t.Errorf("CheckFile of an empty file = %v, %v", ps, err)
		}
	})
}

// A page damaged under a running store: the first write that meets it
// fails with an error wrapping certs.ErrStorage instead of crashing the
// process; the store then refuses writes at once and says so (Writable),
// while reads that do not need the page go on being answered.
func TestDamage_PageUnderAWrite(t *testing.T) {
	f := newDamageFixture(t)
	path := filepath.Join(f.dir, db.FileName)
	size, root := dbtest.BucketRoot(t, path, "certs") // opening the store leaves the certs pages where they are
	s := dbtest.Open(t, f.dir)
	dbtest.ZeroPage(t, path, size, root)
	ctx := context.Background()
	_, err := s.Revoke(ctx, f.leaves[3].Identifier, certs.KeyCompromise, time.Now())
	if !errors.Is(err, certs.ErrStorage) {
		t.Fatalf("Revoke over a zeroed page = %v, want ErrStorage", err)
	}
	if err := s.Writable(); !errors.Is(err, certs.ErrStorage) {
		t.Errorf("Writable() = %v, want ErrStorage", err)
	}
	if err := s.PutAccessKey(ctx, certs.AccessKey{ID: "LTAI-after", SealedSecret: []byte("s")}); !errors.Is(err, certs.ErrStorage) {
		t.Errorf("a write after the failure = %v, want ErrStorage at once", err)
	}
	if cas, err := s.CAs(ctx); err != nil || len(cas) != 2 {
		t.Errorf("CAs after the failure = %d, %v", len(cas), err)
	}
	l := f.leaves[5]
	buf := make([]byte, 0, 64)
	if out, o, err := s.AppendOCSPResponse(ctx, buf, l.Issuer, l.Serial.Bytes(), crypto.SHA1); err != nil || string(out) != "good" || o.Status != certs.Good {
		t.Errorf("pre-signed answer after the failure = %q, %v", out, err)
	}
	if _, err := s.Get(ctx, l.Identifier); !errors.Is(err, certs.ErrCorrupt) {
		t.Errorf("Get through the zeroed page = %v, want ErrCorrupt", err)
	}
	if st := s.Stats(); st.WriteFailures == 0 || st.CorruptReads == 0 {
		t.Errorf("Stats = %+v, want write failures and corrupt reads counted", st)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	_, err = db.Open(f.dir, nil)
	refused(t, err, "zeroed")
}
