package db_test

import (
	"crypto"
	"fmt"
	"math/big"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/db"
	"github.com/certstatus/certstatus/db/dbtest"
)

// A cached answer serves until the next write and not after: a revocation,
// a refreshed answer and an unrelated write each make the next read go to
// the database; with the cache off nothing is counted as a hit.
func TestAnswerCache_RetiredByWrites(t *testing.T) {
	for _, size := range []int{0, -1} {
		t.Run(fmt.Sprintf("AnswerCache=%d", size), func(t *testing.T) {
			s, sub := cacheStore(t, size, "Cache")
			ctx := t.Context()
			leaf, other := dbtest.Leaf(sub, 0x10), dbtest.Leaf(sub, 0x11)
			for _, r := range []certs.Record{leaf, other} {
				if err := s.Put(ctx, r, resp(r, crypto.SHA1, certs.Good, base, "good-"+r.Serial.String())); err != nil {
					t.Fatal(err)
				}
			}
			serial := derInt(big.NewInt(0x10))
			read := func() (string, certs.Status) {
				t.Helper()
				out, o, err := s.AppendOCSPResponse(ctx, nil, sub.CA.Identifier, serial, crypto.SHA1)
				if err != nil {
					t.Fatal(err)
				}
				return string(out), o.Status
			}
			hits := func() int64 { return s.Stats().AnswerCacheHits }
			for range 3 {
				if der, st := read(); der != "good-10" || st != certs.Good {
					t.Fatalf("read %q %v", der, st)
				}
			}
			if want := map[int]int64{0: 2, -1: 0}[size]; hits() != want {
				t.Fatalf("%d hits after three reads, want %d", hits(), want)
			}
			// An unrelated write retires the entry, but the answer is the same.
			h := hits()
			if _, err := s.PutOCSPResponses(ctx, resp(other, crypto.SHA1, certs.Good, base.Add(time.Hour), "good-11b")); err != nil {
				t.Fatal(err)
			}
			if der, _ := read(); der != "good-10" || hits() != h {
				t.Fatalf("after another certificate's write: %q, hits %d -> %d (want a database read)", der, h, hits())
			}
			// A refreshed answer is served at once.
			if _, err := s.PutOCSPResponses(ctx, resp(leaf, crypto.SHA1, certs.Good, base.Add(time.Hour), "good-10b")); err != nil {
				t.Fatal(err)
			}
			if der, _ := read(); der != "good-10b" {
				t.Fatalf("after a refresh: %q, want good-10b", der)
			}
			read()
			// A revocation is served at once.
			if _, err := s.Revoke(ctx, leaf.Identifier, certs.KeyCompromise, base.Add(2*time.Hour), resp(leaf, crypto.SHA1, certs.Revoked, base.Add(2*time.Hour), "revoked-10")); err != nil {
				t.Fatal(err)
			}
			if der, st := read(); der != "revoked-10" || st != certs.Revoked {
				t.Fatalf("after Revoke returned: %q %v, want the revoked answer", der, st)
			}
		})
	}
}

// No reader that starts after Revoke returns gets the old answer, with
// readers and the revoking writer running at once (run with -race).
func TestAnswerCache_NoStaleAnswerUnderLoad(t *testing.T) {
	s, sub := cacheStore(t, 0, "Load")
	ctx := t.Context()
	const n = 24
	var leaves []certs.Record
	for i := range n {
		r := dbtest.Leaf(sub, int64(0x100+i))
		if err := s.Put(ctx, r, resp(r, crypto.SHA1, certs.Good, base, "good")); err != nil {
			t.Fatal(err)
		}
		leaves = append(leaves, r)
	}
	reads, stale := readWhileWriting(t, n, func(k int) (bool, error) {
		_, o, err := s.AppendOCSPResponse(ctx, nil, sub.CA.Identifier, derInt(big.NewInt(int64(0x100+k))), crypto.SHA1)
		return o.Status == certs.Revoked, err
	}, func(i int) error {
		r, at := leaves[i], base.Add(time.Duration(i+1)*time.Minute)
		_, err := s.Revoke(ctx, r.Identifier, certs.Superseded, at, resp(r, crypto.SHA1, certs.Revoked, at, "revoked"))
		return err
	})
	st := s.Stats()
	t.Logf("%d reads, %d cache hits, %d stale", reads, st.AnswerCacheHits, stale)
	if stale != 0 {
		t.Fatalf("%d answers read after the revocation returned said good", stale)
	}
	if st.AnswerCacheHits == 0 {
		t.Fatal("the readers never hit the cache: the test does not exercise it")
	}
}

// What the serving path looked for and did not find — no answer for a
// serial, no certificate with it — is remembered until the next write: a
// second request about an unknown serial opens no read transaction, and
// the first request after the certificate's Put returns finds it. With the
// cache off every request reads.
func TestAnswerCache_AbsentUntilWritten(t *testing.T) {
	for _, size := range []int{0, -1} {
		t.Run(fmt.Sprintf("AnswerCache=%d", size), func(t *testing.T) {
			s, sub := cacheStore(t, size, "Absent")
			ctx := t.Context()
			known := dbtest.Leaf(sub, 0x10)
			if err := s.Put(ctx, known, resp(known, crypto.SHA1, certs.Good, base, "good-10")); err != nil {
				t.Fatal(err)
			}
			noAnswer := dbtest.Leaf(sub, 0x30) // a certificate without a pre-signed answer
			if err := s.Put(ctx, noAnswer); err != nil {
				t.Fatal(err)
			}
			ask := func(serial int64) (answer string, err error, issued bool) {
				t.Helper()
				out, _, err := s.AppendOCSPResponse(ctx, nil, sub.CA.Identifier, derInt(big.NewInt(serial)), crypto.SHA1)
				issued, herr := s.HasSerial(ctx, sub.CA.Identifier, derInt(big.NewInt(serial)))
				if herr != nil {
					t.Fatal(herr)
				}
				return string(out), err, issued
			}
			reads := func() int64 { return s.Stats().ReadTxns }
			wantReads := map[int]int64{0: 0, -1: 2}[size] // per repeated question

			for _, serial := range []int64{0x20, 0x30} {
				if _, err, issued := ask(serial); err != certs.ErrNotFound || issued != (serial == 0x30) {
					t.Fatalf("serial %#x: %v, issued %v", serial, err, issued)
				}
				r := reads()
				for range 3 {
					if _, err, issued := ask(serial); err != certs.ErrNotFound || issued != (serial == 0x30) {
						t.Fatalf("serial %#x again: %v, issued %v", serial, err, issued)
					}
				}
				want := 3 * wantReads
				if serial == 0x30 {
					want = 3 * min(wantReads+1, 2) // an issued serial is not remembered: HasSerial reads
				}
				if got := reads() - r; got != want {
					t.Fatalf("serial %#x: %d read transactions for three repeated questions, want %d", serial, got, want)
				}
			}
			misses := s.Stats().AnswerCacheMisses
			if _, err, _ := ask(0x10); err != nil {
				t.Fatal(err)
			}
			if want := map[int]int64{0: 1, -1: 0}[size]; s.Stats().AnswerCacheMisses-misses != want {
				t.Fatalf("an answer read from the database counted %d misses, want %d", s.Stats().AnswerCacheMisses-misses, want)
			}

			// The certificate arrives: the next question finds it and its answer.
			now := dbtest.Leaf(sub, 0x20)
			if err := s.Put(ctx, now, resp(now, crypto.SHA1, certs.Good, base, "good-20")); err != nil {
				t.Fatal(err)
			}
			if answer, err, issued := ask(0x20); err != nil || answer != "good-20" || !issued {
				t.Fatalf("after Put returned: %q, %v, issued %v", answer, err, issued)
			}
			// So does the missing answer of an issued certificate.
			if _, err := s.PutOCSPResponses(ctx, resp(noAnswer, crypto.SHA1, certs.Good, base, "good-30")); err != nil {
				t.Fatal(err)
			}
			if answer, err, _ := ask(0x30); err != nil || answer != "good-30" {
				t.Fatalf("after its answer was stored: %q, %v", answer, err)
			}
		})
	}
}

// No HasSerial that starts after the certificate's Put returns says the
// serial is unknown, with readers asking about serials as they are issued
// (run with -race).
func TestAnswerCache_NoStaleAbsenceUnderLoad(t *testing.T) {
	s, sub := cacheStore(t, 0, "Absent Load")
	ctx := t.Context()
	reads, stale := readWhileWriting(t, 24, func(k int) (bool, error) {
		serial := derInt(big.NewInt(int64(0x200 + k)))
		_, _, aerr := s.AppendOCSPResponse(ctx, nil, sub.CA.Identifier, serial, crypto.SHA1)
		if aerr != nil && aerr != certs.ErrNotFound {
			return false, aerr
		}
		found, err := s.HasSerial(ctx, sub.CA.Identifier, serial)
		return found && aerr == nil, err
	}, func(i int) error {
		r := dbtest.Leaf(sub, int64(0x200+i))
		return s.Put(ctx, r, resp(r, crypto.SHA1, certs.Good, base, "good"))
	})
	t.Logf("%d questions, %d stale", reads, stale)
	if stale != 0 {
		t.Fatalf("%d questions asked after the certificate's Put returned found it missing", stale)
	}
}

// cacheStore opens a store with an answer cache of size (0: the default)
// holding a root CA and the sub CA it returns, named after name.
func cacheStore(t *testing.T, size int, name string) (*db.Store, dbtest.Issuer) {
	t.Helper()
	s, err := db.Open(t.TempDir(), &db.Options{AnswerCache: size})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	root := dbtest.RootCA(name + " Root")
	sub := dbtest.SubCA(root, 2, name+" Sub")
	mustPutCA(t, s, root.CA, sub.CA)
	return s, sub
}

// readWhileWriting runs four readers over items 0..n-1 while write(i)
// changes item i, one after the other, a millisecond apart. read(k) says
// whether it saw item k changed; a read that started after write(k)
// returned and did not see it is stale.
func readWhileWriting(t *testing.T, n int, read func(k int) (bool, error), write func(i int) error) (reads, stale int64) {
	t.Helper()
	var (
		written    atomic.Int64 // items 0..written-1 are changed and their write returned
		nRead, bad atomic.Int64
		done       = make(chan struct{})
		wg         sync.WaitGroup
	)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; ; i++ {
				select {
				case <-done:
					return
				default:
				}
				k := i % n
				before := written.Load()
				changed, err := read(k)
				if err != nil {
					t.Error(err)
					return
				}
				nRead.Add(1)
				if int64(k) < before && !changed {
					bad.Add(1)
				}
			}
		}()
	}
	for i := range n {
		time.Sleep(time.Millisecond)
		if err := write(i); err != nil {
			t.Error(err)
			break
		}
		written.Store(int64(i + 1))
	}
	time.Sleep(5 * time.Millisecond)
	close(done)
	wg.Wait()
	return nRead.Load(), bad.Load()
}
