package db_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/db/dbtest"
)

func TestStore_UseNonce(t *testing.T) {
	s := dbtest.New(t)
	ctx := context.Background()
	later := time.Now().Add(30 * time.Minute)
	use := func(key, nonce string, expires time.Time) bool {
		t.Helper()
		fresh, err := s.UseNonce(ctx, key, nonce, expires)
		if err != nil {
			t.Fatal(err)
		}
		return fresh
	}
	if !use("AK1", "n1", later) {
		t.Error("first use: got used, want fresh")
	}
	if use("AK1", "n1", later) {
		t.Error("second use: got fresh, want used")
	}
	if !use("AK2", "n1", later) || !use("AK1", "n2", later) || !use("AK", "1n1", later) {
		t.Error("another key or nonce: got used, want fresh")
	}
	// Kept across a restart until it expires.
	s = dbtest.Reopen(t, s)
	if use("AK1", "n1", later) {
		t.Error("after reopening: got fresh, want used")
	}
	// An expired entry is fresh again.
	if !use("AK3", "old", time.Now().Add(-time.Second)) || !use("AK3", "old", later) || use("AK3", "old", later) {
		t.Error("expired nonce: want fresh once, then used")
	}
	if _, err := s.UseNonce(ctx, "", "n", later); !errors.Is(err, certs.ErrInvalid) {
		t.Errorf("empty AccessKeyId: got %v, want ErrInvalid", err)
	}
}

func TestStore_UseNonceConcurrent(t *testing.T) {
	s := dbtest.New(t)
	var fresh atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			ok, err := s.UseNonce(context.Background(), "AK", "shared", time.Now().Add(time.Hour))
			if err != nil {
				t.Error(err)
			}
			if ok {
				fresh.Add(1)
			}
		})
	}
	wg.Wait()
	if got := fresh.Load(); got != 1 {
		t.Errorf("fresh uses: got %d, want 1", got)
	}
}

func TestStore_PruneNonces(t *testing.T) {
	s := dbtest.New(t)
	ctx := context.Background()
	if n, err := s.PruneNonces(ctx, time.Now(), 10); err != nil || n != 0 {
		t.Fatalf("prune before any nonce (no bucket yet): %d, %v", n, err)
	}
	now := time.Now()
	for i := range 25 {
		if _, err := s.UseNonce(ctx, "AK", fmt.Sprint("old", i), now.Add(-time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.UseNonce(ctx, "AK", "current", now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	for _, want := range []int{10, 10, 5, 0} {
		n, err := s.PruneNonces(ctx, now, 10)
		if err != nil || n != want {
			t.Fatalf("prune: got %d, %v; want %d (at most the limit per call)", n, err, want)
		}
	}
	if fresh, err := s.UseNonce(ctx, "AK", "current", now.Add(time.Hour)); err != nil || fresh {
		t.Errorf("the unexpired nonce was pruned: fresh %v, %v", fresh, err)
	}
}
