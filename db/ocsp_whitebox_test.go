package db

import (
	"crypto"
	"fmt"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/db/kv"
)

// OCSPResponsesDue examines at most dueScanMax responses a call, returning
// early (with none due, if so) so that the refresh can pace itself, and
// paging still finds every due response once.
func TestOCSPResponsesDue_ScanIsPaged(t *testing.T) {
	s := openT(t, t.TempDir())
	defer func(n int) { dueScanMax = n }(dueScanMax)
	dueScanMax = 3
	issuer := certs.Identifier(strings.Repeat("cd", certs.IdentifierLen/2))
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	due := map[certs.Serial]bool{}
	if err := s.bolt.Update(func(tx *bolt.Tx) error {
		for i := range 11 {
			serial := certs.Serial(fmt.Sprintf("%x", 0x100+i))
			this := base.Add(time.Duration(i) * time.Hour) // due: i >= 8 are not
			if i >= 8 {
				this = base.Add(48 * time.Hour)
			} else if i%3 == 0 {
				due[serial] = true
			} else {
				this = base.Add(48 * time.Hour)
			}
			k, err := ocspKey(issuer, serial, crypto.SHA1)
			if err != nil {
				return err
			}
			if err := put(kv.BoltTx(tx), bucketOCSP, k, encodeOCSP(certs.OCSPResponse{Status: certs.Good, DER: []byte("d"), ThisUpdate: this, NextUpdate: this.Add(time.Hour)})); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	got := map[certs.Serial]int{}
	calls, empty := 0, 0
	var after []byte
	for {
		calls++
		if calls > 20 {
			t.Fatal("paging does not end")
		}
		n := 0
		next, err := s.OCSPResponsesDue(t.Context(), base.Add(24*time.Hour), after, 2, func(o certs.OCSPResponse) error {
			got[o.Serial]++
			n++
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			empty++
		}
		if next == nil {
			break
		}
		after = next
	}
	if len(got) != len(due) {
		t.Fatalf("found %v, want %v", got, due)
	}
	for s, n := range got {
		if !due[s] || n != 1 {
			t.Fatalf("serial %s found %d times (due %v)", s, n, due[s])
		}
	}
	if calls < 4 || empty == 0 {
		t.Fatalf("%d calls, %d without a due response: the scan was not bounded to 3 a call", calls, empty)
	}
}
