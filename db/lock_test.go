package db_test

// The two kinds of concurrency db/doc.go promises: one process per data
// directory (a file lock, tested in-process and from a second process), and
// any number of goroutines writing through one Store (bbolt's Batch).

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/db"
	"github.com/certstatus/certstatus/db/dbtest"
)

// lockBound is how long a refused Open may take: far above every
// LockTimeout used here, so a shared, busy machine cannot make it flaky.
const lockBound = 5 * time.Second

// helperEnv makes the re-executed test binary act as a second certstatus:
// "open:<dir>" opens dir and prints the outcome, "hold:<dir>" opens dir and
// holds it until its stdin is closed.
const helperEnv = "CERTSTATUS_DB_TEST_HELPER"

func checkLocked(t *testing.T, err error, dir string) {
	t.Helper()
	if !errors.Is(err, db.ErrLocked) {
		t.Errorf("Open() = %v, want ErrLocked", err)
		return
	}
	for _, want := range []string{dir, "another certstatus"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestOpen_Locked(t *testing.T) {
	s := dbtest.New(t)
	tests := []struct {
		name string
		opts *db.Options
	}{
		{"default timeout", nil},
		{"short timeout", &db.Options{LockTimeout: 50 * time.Millisecond}},
		{"read-only", &db.Options{ReadOnly: true, LockTimeout: 50 * time.Millisecond}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			s2, err := db.Open(s.Dir(), tc.opts)
			if elapsed := time.Since(start); elapsed > lockBound {
				t.Errorf("second Open took %v, want under %v", elapsed, lockBound)
			}
			if err == nil {
				s2.Close()
				t.Fatalf("second Open of %s succeeded", s.Dir())
			}
			checkLocked(t, err, s.Dir())
		})
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	dbtest.Open(t, s.Dir()) // released by Close
}

// TestHelperProcess is not a test: the tests below run the test binary again
// with helperEnv set, as a second process contending for the lock.
func TestHelperProcess(t *testing.T) {
	mode, dir, ok := strings.Cut(os.Getenv(helperEnv), ":")
	if !ok {
		return
	}
	s, err := db.Open(dir, &db.Options{LockTimeout: 50 * time.Millisecond})
	if err != nil {
		fmt.Printf("locked=%v err=%v\n", errors.Is(err, db.ErrLocked), err)
		os.Exit(3)
	}
	if mode == "hold" {
		fmt.Println("holding")
		io.Copy(io.Discard, os.Stdin) // until the parent closes it
	}
	s.Close()
	fmt.Println("opened")
	os.Exit(0)
}

func helper(t *testing.T, mode, dir string) *exec.Cmd {
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperEnv+"="+mode+":"+dir)
	return cmd
}

func TestOpen_Locked_OtherProcess(t *testing.T) {
	t.Run("other process refused", func(t *testing.T) {
		s := dbtest.New(t)
		out, err := helper(t, "open", s.Dir()).CombinedOutput()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 3 {
			t.Fatalf("helper: %v, want exit status 3; output:\n%s", err, out)
		}
		for _, want := range []string{"locked=true", s.Dir(), "another certstatus"} {
			if !strings.Contains(string(out), want) {
				t.Errorf("helper output %q does not contain %q", out, want)
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if out, err := helper(t, "open", s.Dir()).CombinedOutput(); err != nil || !strings.Contains(string(out), "opened") {
			t.Errorf("helper after Close: %v, output:\n%s", err, out)
		}
	})

	t.Run("this process refused", func(t *testing.T) {
		dir := t.TempDir()
		cmd := helper(t, "hold", dir)
		stdin, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer cmd.Wait()
		defer stdin.Close()
		if line, err := bufio.NewReader(stdout).ReadString('\n'); line != "holding\n" {
			t.Fatalf("helper said %q, %v; want holding", line, err)
		}
		start := time.Now()
		s, err := db.Open(dir, &db.Options{LockTimeout: 50 * time.Millisecond})
		if err == nil {
			s.Close()
			t.Fatalf("Open of a directory another process holds succeeded")
		}
		if elapsed := time.Since(start); elapsed > lockBound {
			t.Errorf("Open took %v, want under %v", elapsed, lockBound)
		}
		checkLocked(t, err, dir)
		stdin.Close()
		if err := cmd.Wait(); err != nil {
			t.Fatalf("helper: %v", err)
		}
		dbtest.Open(t, dir) // released when the other process exits
	})
}

// TestStore_ConcurrentWriters runs under -race in CI: every acknowledged
// write must be durable and the indexes consistent, however bbolt's Batch
// grouped the writers.
func TestStore_ConcurrentWriters(t *testing.T) {
	const writers, each = 12, 6
	s := dbtest.New(t)
	root := dbtest.RootCA("Concurrent Root")
	sub := dbtest.SubCA(root, 2, "Concurrent Sub")
	mustPutCA(t, s, root.CA, sub.CA)
	recs := make([][]certs.Record, writers)
	for w := range recs {
		for i := range each {
			recs[w] = append(recs[w], dbtest.Leaf(sub, int64(w*1000+i+1)))
		}
	}
	ctx := t.Context()
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i, r := range recs[w] {
				if err := s.Put(ctx, r); err != nil {
					t.Errorf("writer %d: Put(%s): %v", w, r.Serial, err)
					return
				}
				if i%2 == 1 {
					if _, err := s.Revoke(ctx, r.Identifier, certs.KeyCompromise, base); err != nil {
						t.Errorf("writer %d: Revoke(%s): %v", w, r.Serial, err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}

	s = dbtest.Reopen(t, s)
	for w := range recs {
		for i, want := range recs[w] {
			if i%2 == 1 {
				want.State, want.RevokedAt, want.Reason = certs.StateRevoked, base, certs.KeyCompromise
			}
			got, err := s.Lookup(ctx, sub.CA.Identifier, want.Serial)
			if err != nil {
				t.Errorf("Lookup(%s) after reopen: %v", want.Serial, err)
			} else if d := diff(got, want); d != "" {
				t.Errorf("record %s after reopen:%s", want.Serial, d)
			}
		}
	}
	for _, tc := range []struct {
		name string
		f    certs.Filter
		want int
	}{
		{"all", certs.Filter{}, writers * each},
		{"revoked", certs.Filter{State: certs.StateRevoked}, writers * each / 2},
	} {
		if n, err := s.Count(ctx, tc.f); err != nil || n != tc.want {
			t.Errorf("Count(%s) = %d, %v; want %d", tc.name, n, err, tc.want)
		}
	}
}

// TestStore_Revoke_ConcurrentSameRecord checks that racing revocations of
// one certificate, grouped or not into one batch, leave exactly one winner
// whose facts are stored, and that every loser sees ErrAlreadyRevoked.
func TestStore_Revoke_ConcurrentSameRecord(t *testing.T) {
	s := dbtest.New(t)
	root := dbtest.RootCA("Race Root")
	mustPutCA(t, s, root.CA)
	r := dbtest.Leaf(root, 0x77)
	mustPut(t, s, r)
	reasons := []certs.Reason{certs.Unspecified, certs.KeyCompromise, certs.CACompromise, certs.AffiliationChanged,
		certs.Superseded, certs.CessationOfOperation, certs.CertificateHold, certs.PrivilegeWithdrawn}
	results := make([]error, len(reasons))
	var wg sync.WaitGroup
	for i, reason := range reasons {
		wg.Go(func() {
			_, results[i] = s.Revoke(t.Context(), r.Identifier, reason, base.Add(time.Duration(i)*time.Second))
		})
	}
	wg.Wait()
	winner := -1
	for i, err := range results {
		switch {
		case err == nil && winner >= 0:
			t.Errorf("revocations %d and %d both succeeded", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, certs.ErrAlreadyRevoked):
			t.Errorf("revocation %d: %v, want ErrAlreadyRevoked", i, err)
		}
	}
	if winner < 0 {
		t.Fatalf("no revocation succeeded: %v", results)
	}
	got := mustGet(t, dbtest.Reopen(t, s), r.Identifier)
	if got.Reason != reasons[winner] || !got.RevokedAt.Equal(base.Add(time.Duration(winner)*time.Second)) {
		t.Errorf("stored revocation = %v at %v, want the winner's %v at %v",
			got.Reason, got.RevokedAt, reasons[winner], base.Add(time.Duration(winner)*time.Second))
	}
}
