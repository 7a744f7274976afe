package db_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/db"
	"github.com/certstatus/certstatus/db/dbtest"
)

// base is a fixed instant at microsecond precision in UTC, the form the
// store keeps, so values built from it compare equal after a round trip.
var base = time.Date(2025, 3, 14, 15, 9, 26, 535897000, time.UTC)

func mustPutCA(t *testing.T, s *db.Store, cas ...certs.CA) {
	t.Helper()
	for _, c := range cas {
		if err := s.PutCA(t.Context(), c); err != nil {
			t.Fatalf("PutCA(%s %s): %v", c.Kind, c.Identifier, err)
		}
	}
}

func mustPut(t *testing.T, s *db.Store, recs ...certs.Record) {
	t.Helper()
	for _, r := range recs {
		if err := s.Put(t.Context(), r); err != nil {
			t.Fatalf("Put(%s serial %s): %v", r.Identifier, r.Serial, err)
		}
	}
}

func mustGet(t *testing.T, s *db.Store, id certs.Identifier) certs.Record {
	t.Helper()
	r, err := s.Get(t.Context(), id)
	if err != nil {
		t.Fatalf("Get(%s): %v", id, err)
	}
	return r
}

func idsOf(recs []certs.Record) []certs.Identifier {
	out := make([]certs.Identifier, len(recs))
	for i, r := range recs {
		out[i] = r.Identifier
	}
	return out
}

// diff describes field by field how got and want, two values of one struct
// type, differ; "" means they are DeepEqual. Long byte slices are shortened.
func diff(got, want any) string {
	if reflect.DeepEqual(got, want) {
		return ""
	}
	gv, wv := reflect.ValueOf(got), reflect.ValueOf(want)
	if gv.Kind() != reflect.Struct || gv.Type() != wv.Type() {
		return fmt.Sprintf("got %v, want %v", got, want)
	}
	var b strings.Builder
	for i := range gv.NumField() {
		g, w := gv.Field(i).Interface(), wv.Field(i).Interface()
		if !reflect.DeepEqual(g, w) {
			fmt.Fprintf(&b, "\n\t%s: got %s, want %s", gv.Type().Field(i).Name, short(g), short(w))
		}
	}
	return b.String()
}

func short(v any) string {
	if b, ok := v.([]byte); ok && len(b) > 16 {
		return fmt.Sprintf("[%d bytes %x…]", len(b), b[:8])
	}
	return fmt.Sprintf("%#v", v)
}

func TestStore_Reopen_RoundTrip(t *testing.T) {
	s := dbtest.New(t)
	f := populate(t, s)
	assertContents(t, s, f)
	s = dbtest.Reopen(t, s)
	assertContents(t, s, f)
	if got, want := s.SchemaVersion(), db.SchemaVersion(); got != want {
		t.Errorf("SchemaVersion() after reopen = %d, want %d", got, want)
	}
}

func TestStore_Put_StoresTimesInMicrosecondsUTC(t *testing.T) {
	s := dbtest.New(t)
	root := dbtest.RootCA("Times Root")
	mustPutCA(t, s, root.CA)
	r := dbtest.Leaf(root, 7)
	cet := time.FixedZone("CET", 3600)
	r.CreatedAt = time.Date(2025, 1, 2, 3, 4, 5, 123456789, cet)
	mustPut(t, s, r)
	got := dbtest.Reopen(t, s)
	gotR := mustGet(t, got, r.Identifier)
	want := r.CreatedAt.Truncate(time.Microsecond)
	if !gotR.CreatedAt.Equal(want) || gotR.CreatedAt.Location() != time.UTC {
		t.Errorf("CreatedAt = %v (%v), want %v in UTC", gotR.CreatedAt, gotR.CreatedAt.Location(), want)
	}
}

func TestOpen_Layout(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nested", "data")
	s := dbtest.Open(t, dir)
	if got, want := s.Dir(), dir; got != want {
		t.Errorf("Dir() = %q, want %q", got, want)
	}
	if got, want := s.Path(), filepath.Join(dir, db.FileName); got != want {
		t.Errorf("Path() = %q, want %q", got, want)
	}
	if got, want := s.SchemaVersion(), db.SchemaVersion(); got != want || got < 1 {
		t.Errorf("SchemaVersion() = %d, want %d (>= 1)", got, want)
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("data directory: %v, %v; want mode 0700", fi, err)
	}
}

func TestOpen_ReadOnly(t *testing.T) {
	s := dbtest.New(t)
	f := populate(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	ro, err := db.Open(s.Dir(), &db.Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("Open(ReadOnly): %v", err)
	}
	defer ro.Close()
	assertContents(t, ro, f)
	if err := ro.Put(t.Context(), dbtest.Leaf(f.sub, 0x9999)); err == nil {
		t.Errorf("Put on a read-only store succeeded")
	}

	if _, err := db.Open(filepath.Join(t.TempDir(), "missing"), &db.Options{ReadOnly: true}); err == nil {
		t.Errorf("Open(ReadOnly) of a missing directory succeeded")
	}
}

func TestStore_ContextCanceled(t *testing.T) {
	s := dbtest.New(t)
	root := dbtest.RootCA("Ctx Root")
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := s.PutCA(ctx, root.CA); !errors.Is(err, context.Canceled) {
		t.Errorf("PutCA(canceled) = %v, want context.Canceled", err)
	}
	if _, err := s.CA(ctx, root.CA.Identifier); !errors.Is(err, context.Canceled) {
		t.Errorf("CA(canceled) = %v, want context.Canceled", err)
	}
	if _, err := s.CA(t.Context(), root.CA.Identifier); !errors.Is(err, certs.ErrNotFound) {
		t.Errorf("CA after a canceled PutCA = %v, want ErrNotFound", err)
	}
}

func TestStore_PutCA_Errors(t *testing.T) {
	s := dbtest.New(t)
	root := dbtest.RootCA("CA Errors Root")
	sub := dbtest.SubCA(root, 0x20, "CA Errors Sub")
	mustPutCA(t, s, root.CA, sub.CA)
	orphan := dbtest.SubCA(dbtest.RootCA("Unstored Root"), 0x21, "Orphan")
	tests := []struct {
		name string
		ca   certs.CA
		want error
	}{
		{"exists/identifier", root.CA, certs.ErrExists},
		{"exists/serial under the parent", dbtest.SubCA(root, 0x20, "Same Serial").CA, certs.ErrExists},
		{"not found/parent", orphan.CA, certs.ErrNotFound},
		{"invalid/identifier of other DER", func() certs.CA { c := dbtest.SubCA(root, 0x22, "x").CA; c.Identifier = sub.CA.Identifier; return c }(), certs.ErrInvalid},
		{"invalid/root with a parent", func() certs.CA { c := dbtest.RootCA("x").CA; c.Parent = root.CA.Identifier; return c }(), certs.ErrInvalid},
		{"invalid/leaf kind", func() certs.CA { c := dbtest.SubCA(root, 0x23, "x").CA; c.Kind = certs.KindClient; return c }(), certs.ErrInvalid},
		{"invalid/sub CA without serial", func() certs.CA { c := dbtest.SubCA(root, 0x24, "x").CA; c.Serial = ""; return c }(), certs.ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := s.PutCA(t.Context(), tc.ca); !errors.Is(err, tc.want) {
				t.Errorf("PutCA() = %v, want %v", err, tc.want)
			}
			if cas, _ := s.CAs(t.Context()); len(cas) != 2 {
				t.Errorf("CAs() after a failed PutCA has %d CAs, want 2", len(cas))
			}
			dbtest.Verify(t, s)
		})
	}
}

func TestStore_CAChain(t *testing.T) {
	s := dbtest.New(t)
	root := dbtest.RootCA("Chain Root")
	sub := dbtest.SubCA(root, 0x30, "Chain Sub")
	leafCA := dbtest.SubCA(sub, 0x31, "Chain Sub 2")
	mustPutCA(t, s, root.CA, sub.CA, leafCA.CA)
	chain, err := s.CAChain(t.Context(), leafCA.CA.Identifier)
	if err != nil {
		t.Fatal(err)
	}
	var got []certs.Identifier
	for _, c := range chain {
		got = append(got, c.Identifier)
	}
	want := []certs.Identifier{leafCA.CA.Identifier, sub.CA.Identifier, root.CA.Identifier}
	if !slices.Equal(got, want) {
		t.Fatalf("CAChain = %v, want %v", got, want)
	}
	if chain, err := s.CAChain(t.Context(), root.CA.Identifier); err != nil || len(chain) != 1 {
		t.Fatalf("CAChain(root) = %d CAs, %v", len(chain), err)
	}
	if _, err := s.CAChain(t.Context(), dbtest.RootCA("Unstored").CA.Identifier); !errors.Is(err, certs.ErrNotFound) {
		t.Fatalf("CAChain(unknown) = %v, want ErrNotFound", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := s.CAChain(ctx, root.CA.Identifier); !errors.Is(err, context.Canceled) {
		t.Fatalf("CAChain(canceled) = %v", err)
	}
}

func TestStore_UpdateCA(t *testing.T) {
	s := dbtest.New(t)
	root := dbtest.RootCA("Update Root")
	mustPutCA(t, s, root.CA)
	ctx := t.Context()

	got, err := s.UpdateCA(ctx, root.CA.Identifier, func(c *certs.CA) error {
		c.Alias, c.Disabled = "renamed", true
		return nil
	})
	want := root.CA
	want.Alias, want.Disabled = "renamed", true
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("UpdateCA() = %v:%s", err, diff(got, want))
	}

	errStop := errors.New("stop")
	tests := []struct {
		name string
		fn   func(*certs.CA) error
		want error
	}{
		{"error/fn fails", func(*certs.CA) error { return errStop }, errStop},
		{"error/changes DER", func(c *certs.CA) error { c.DER = []byte("other"); return nil }, certs.ErrInvalid},
		{"error/changes serial", func(c *certs.CA) error { c.Serial = "ff"; return nil }, certs.ErrInvalid},
		{"error/revoked without time", func(c *certs.CA) error { c.State = certs.StateRevoked; return nil }, certs.ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := s.UpdateCA(ctx, root.CA.Identifier, tc.fn); !errors.Is(err, tc.want) {
				t.Errorf("UpdateCA() = %v, want %v", err, tc.want)
			}
			if got, _ := s.CA(ctx, root.CA.Identifier); !reflect.DeepEqual(got, want) {
				t.Errorf("CA changed by a failed update:%s", diff(got, want))
			}
		})
	}
	if _, err := s.UpdateCA(ctx, certs.IdentifierOf(nil), func(*certs.CA) error { return nil }); !errors.Is(err, certs.ErrNotFound) {
		t.Errorf("UpdateCA(unknown) = %v, want ErrNotFound", err)
	}
}

func TestStore_AccessKeys(t *testing.T) {
	s := dbtest.New(t)
	ctx := t.Context()
	k := certs.AccessKey{ID: "LTAI-1", SealedSecret: []byte("s"), QPS: 5, CreatedAt: base}
	if err := s.PutAccessKey(ctx, k); err != nil {
		t.Fatalf("PutAccessKey: %v", err)
	}
	tests := []struct {
		name string
		key  certs.AccessKey
		want error
	}{
		{"exists/same id", certs.AccessKey{ID: "LTAI-1", SealedSecret: []byte("other")}, certs.ErrExists},
		{"invalid/empty id", certs.AccessKey{SealedSecret: []byte("s")}, certs.ErrInvalid},
		{"invalid/no secret", certs.AccessKey{ID: "LTAI-2"}, certs.ErrInvalid},
		{"invalid/negative QPS", certs.AccessKey{ID: "LTAI-3", SealedSecret: []byte("s"), QPS: -1}, certs.ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := s.PutAccessKey(ctx, tc.key); !errors.Is(err, tc.want) {
				t.Errorf("PutAccessKey() = %v, want %v", err, tc.want)
			}
		})
	}
	if got, err := s.AccessKey(ctx, "LTAI-1"); err != nil || !reflect.DeepEqual(got, k) {
		t.Errorf("AccessKey() = %+v, %v; want %+v", got, err, k)
	}
	if _, err := s.AccessKey(ctx, "LTAI-2"); !errors.Is(err, certs.ErrNotFound) {
		t.Errorf("AccessKey(unknown) = %v, want ErrNotFound", err)
	}
}

func TestStore_List_Paging(t *testing.T) {
	s := dbtest.New(t)
	root := dbtest.RootCA("Paging Root")
	mustPutCA(t, s, root.CA)
	var want []certs.Identifier
	for i := range 23 {
		r := dbtest.Leaf(root, int64(i+1))
		mustPut(t, s, r)
		if i == 5 {
			if _, err := s.Delete(t.Context(), r.Identifier, base); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want = append(want, r.Identifier)
	}
	slices.Reverse(want) // newest first

	for _, limit := range []int{1, 4, 11, 22, 100} {
		t.Run("limit "+strconv.Itoa(limit), func(t *testing.T) {
			var got []certs.Identifier
			f := certs.Filter{Limit: limit}
			for pages := 1; ; pages++ {
				page, next, err := s.List(t.Context(), f)
				if err != nil {
					t.Fatalf("List(After %q): %v", f.After, err)
				}
				if len(page) > limit || len(page) == 0 {
					t.Fatalf("page %d has %d records, want 1..%d", pages, len(page), limit)
				}
				got = append(got, idsOf(page)...)
				if next == "" {
					break
				}
				if next != page[len(page)-1].Identifier {
					t.Fatalf("page %d: next = %s, want its last identifier %s", pages, next, page[len(page)-1].Identifier)
				}
				if pages > len(want) {
					t.Fatalf("paging does not end")
				}
				f.After = next
			}
			if !slices.Equal(got, want) {
				t.Errorf("pages cover %v,\nwant each record once in order %v", got, want)
			}
		})
	}

	// After must name a stored certificate: the cursor is its place in
	// the creation order.
	if _, _, err := s.List(t.Context(), certs.Filter{After: "66915cf3a711caebbf2084cf096610d0"}); !errors.Is(err, certs.ErrNotFound) {
		t.Errorf("List(After an unknown identifier) = %v, want ErrNotFound", err)
	}
	// Offset skips matches.
	got, next, err := s.List(t.Context(), certs.Filter{Offset: 20, Limit: 5})
	if err != nil || next != "" || !slices.Equal(idsOf(got), want[20:]) {
		t.Errorf("List(Offset 20, Limit 5) = %v, %q, %v; want %v", idsOf(got), next, err, want[20:])
	}
}

func TestStore_List_Filter(t *testing.T) {
	s := dbtest.New(t)
	root := dbtest.RootCA("Filter Root")
	subA, subB := dbtest.SubCA(root, 0xa, "Filter A"), dbtest.SubCA(root, 0xb, "Filter B")
	mustPutCA(t, s, root.CA, subA.CA, subB.CA)
	var all []certs.Record
	for i := range 12 {
		r := dbtest.Leaf([]dbtest.Issuer{subA, subB}[i%2], int64(i+1))
		if i%3 == 0 {
			r.Kind = certs.KindServer
		}
		mustPut(t, s, r)
		if i%4 == 0 {
			var err error
			if r, err = s.Revoke(t.Context(), r.Identifier, certs.KeyCompromise, base); err != nil {
				t.Fatal(err)
			}
		}
		if i == 7 || i == 8 {
			var err error
			if r, err = s.Delete(t.Context(), r.Identifier, base.Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
		}
		all = append(all, r)
	}
	slices.Reverse(all) // newest first

	tests := []struct {
		name  string
		f     certs.Filter
		match func(certs.Record) bool
	}{
		{"all but deleted", certs.Filter{}, func(r certs.Record) bool { return !r.Deleted }},
		{"include deleted", certs.Filter{IncludeDeleted: true}, func(certs.Record) bool { return true }},
		{"issuer", certs.Filter{Issuer: subB.CA.Identifier}, func(r certs.Record) bool { return !r.Deleted && r.Issuer == subB.CA.Identifier }},
		{"issuer without leaves", certs.Filter{Issuer: root.CA.Identifier}, func(certs.Record) bool { return false }},
		{"kind", certs.Filter{Kind: certs.KindServer}, func(r certs.Record) bool { return !r.Deleted && r.Kind == certs.KindServer }},
		{"state revoked", certs.Filter{State: certs.StateRevoked}, func(r certs.Record) bool { return !r.Deleted && r.State == certs.StateRevoked }},
		{"state issued, deleted too", certs.Filter{State: certs.StateIssued, IncludeDeleted: true}, func(r certs.Record) bool { return r.State == certs.StateIssued }},
		{"issuer and kind and state", certs.Filter{Issuer: subA.CA.Identifier, Kind: certs.KindServer, State: certs.StateRevoked}, func(r certs.Record) bool {
			return !r.Deleted && r.Issuer == subA.CA.Identifier && r.Kind == certs.KindServer && r.State == certs.StateRevoked
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var want []certs.Record
			for _, r := range all {
				if tc.match(r) {
					want = append(want, r)
				}
			}
			got, next, err := s.List(t.Context(), tc.f)
			if err != nil || next != "" || !reflect.DeepEqual(got, want) {
				t.Errorf("List() = %v, next %q, %v; want %v", idsOf(got), next, err, idsOf(want))
			}
			tc.f.Limit, tc.f.After = 1, "ffffffffffffffffffffffffffffffff" // Count ignores both
			if n, err := s.Count(t.Context(), tc.f); err != nil || n != len(want) {
				t.Errorf("Count() = %d, %v; want %d", n, err, len(want))
			}
		})
	}
}
