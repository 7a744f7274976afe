package db_test

import (
	"errors"
	"math/big"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/db/dbtest"
)

// with returns a copy of r changed by fn, for table cases.
func with(r certs.Record, fn func(*certs.Record)) certs.Record {
	fn(&r)
	return r
}

func TestStore_Put_Errors(t *testing.T) {
	s := dbtest.New(t)
	ctx := t.Context()
	root := dbtest.RootCA("Put Errors Root")
	sub := dbtest.SubCA(root, 0x10, "Put Errors Sub")
	mustPutCA(t, s, root.CA, sub.CA)
	existing := dbtest.Leaf(sub, 0x100)
	existing.CustomIdentifier = "order-1"
	mustPut(t, s, existing)
	other := dbtest.Leaf(sub, 0x101)
	unstored := dbtest.SubCA(root, 0x11, "Unstored Sub")

	tests := []struct {
		name string
		rec  certs.Record
		want error
	}{
		{"invalid/malformed identifier", with(other, func(r *certs.Record) { r.Identifier = "not-an-identifier" }), certs.ErrInvalid},
		{"invalid/upper-case identifier", with(other, func(r *certs.Record) { r.Identifier = certs.Identifier(strings.ToUpper(string(r.Identifier))) }), certs.ErrInvalid},
		{"invalid/identifier not of its DER", with(other, func(r *certs.Record) { r.Identifier = certs.IdentifierOf([]byte("x")) }), certs.ErrInvalid},
		{"invalid/identifier of the existing record", with(other, func(r *certs.Record) { r.Identifier = existing.Identifier }), certs.ErrInvalid},
		{"invalid/malformed issuer", with(other, func(r *certs.Record) { r.Issuer = "sub" }), certs.ErrInvalid},
		{"invalid/malformed serial", with(other, func(r *certs.Record) { r.Serial = "xyz" }), certs.ErrInvalid},
		{"invalid/empty serial", with(other, func(r *certs.Record) { r.Serial = "" }), certs.ErrInvalid},
		{"invalid/CA kind", with(other, func(r *certs.Record) { r.Kind = certs.KindSubCA }), certs.ErrInvalid},
		{"invalid/no DER", with(other, func(r *certs.Record) { r.DER = nil }), certs.ErrInvalid},
		{"invalid/no state", with(other, func(r *certs.Record) { r.State = 0 }), certs.ErrInvalid},
		{"invalid/revoked without time", with(other, func(r *certs.Record) { r.State = certs.StateRevoked }), certs.ErrInvalid},
		{"invalid/revoked for removeFromCRL", with(other, func(r *certs.Record) {
			r.State, r.RevokedAt, r.Reason = certs.StateRevoked, base, certs.RemoveFromCRL
		}), certs.ErrInvalid},
		{"not found/issuing CA", dbtest.Leaf(unstored, 0x100), certs.ErrNotFound},
		{"exists/identifier", existing, certs.ErrExists},
		{"exists/identifier with other fields", with(existing, func(r *certs.Record) { r.CustomIdentifier, r.Alias = "", "another" }), certs.ErrExists},
		{"invalid/serial not the certificate's", with(other, func(r *certs.Record) { r.Serial = "999" }), certs.ErrInvalid},
		{"invalid/serial not canonical", with(other, func(r *certs.Record) { r.Serial = "0" + r.Serial }), certs.ErrInvalid},
		{"exists/serial under the same issuer", dbtest.Leaf(sub, 0x100), certs.ErrExists},
		{"exists/serial of a sub CA under its parent", dbtest.Leaf(root, 0x10), certs.ErrExists},
		{"exists/custom identifier", with(other, func(r *certs.Record) { r.CustomIdentifier = "order-1" }), certs.ErrExists},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := s.Put(ctx, tc.rec)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Put() = %v, want %v", err, tc.want)
			}
			// Nothing of the failed record may have been written.
			if n, err := s.Count(ctx, certs.Filter{IncludeDeleted: true}); err != nil || n != 1 {
				t.Errorf("Count() = %d, %v; want 1", n, err)
			}
			if got, err := s.Get(ctx, tc.rec.Identifier); err == nil && !reflect.DeepEqual(got, existing) {
				t.Errorf("Get(%s) found the rejected record", tc.rec.Identifier)
			}
			if got, err := s.Lookup(ctx, tc.rec.Issuer, tc.rec.Serial); err == nil && got.Identifier == tc.rec.Identifier && got.Identifier != existing.Identifier {
				t.Errorf("Lookup(%s, %s) found the rejected record", tc.rec.Issuer, tc.rec.Serial)
			}
			if bs, _ := s.BySerial(ctx, tc.rec.Serial); slices.Contains(idsOf(bs), tc.rec.Identifier) && tc.rec.Identifier != existing.Identifier {
				t.Errorf("BySerial(%s) found the rejected record", tc.rec.Serial)
			}
			if got, err := s.ByCustomIdentifier(ctx, "order-1"); err != nil || got.Identifier != existing.Identifier {
				t.Errorf("ByCustomIdentifier(order-1) = %s, %v; want %s", got.Identifier, err, existing.Identifier)
			}
			dbtest.Verify(t, s)
		})
	}
	// None of the failures left anything behind that blocks the valid record.
	other.CustomIdentifier = "order-2"
	mustPut(t, s, other)
}

func TestStore_Lookup(t *testing.T) {
	s := dbtest.New(t)
	root := dbtest.RootCA("Lookup Root")
	subA, subB := dbtest.SubCA(root, 0xa, "Lookup Sub A"), dbtest.SubCA(root, 0xb, "Lookup Sub B")
	mustPutCA(t, s, root.CA, subA.CA, subB.CA)
	leafA, leafB := dbtest.Leaf(subA, 0x42), dbtest.Leaf(subB, 0x42)
	longer := dbtest.Leaf(subA, 0x4200) // shares the serial's leading bytes
	huge, _ := new(big.Int).SetString("7fffffffffffffffffffffffffffffffffffff01", 16)
	big20 := dbtest.LeafBig(subB, huge)
	leafB.CustomIdentifier = "custom-b"
	mustPut(t, s, leafA, leafB, longer, big20)
	unknownCA := certs.IdentifierOf([]byte("no such CA"))

	tests := []struct {
		name    string
		issuer  certs.Identifier
		serial  certs.Serial
		want    certs.Identifier
		wantErr error
	}{
		{"leaf/sub A", subA.CA.Identifier, "42", leafA.Identifier, nil},
		{"leaf/sub B, same serial", subB.CA.Identifier, "42", leafB.Identifier, nil},
		{"leaf/20-octet serial", subB.CA.Identifier, big20.Serial, big20.Identifier, nil},
		{"sub CA/under root", root.CA.Identifier, "a", subA.CA.Identifier, nil},
		{"error/unknown serial", subA.CA.Identifier, "43", "", certs.ErrNotFound},
		{"error/serial of another issuer", root.CA.Identifier, "42", "", certs.ErrNotFound},
		{"error/unknown issuer", unknownCA, "42", "", certs.ErrNotFound},
		{"error/malformed issuer", "sub-a", "42", "", certs.ErrInvalid},
		{"error/malformed serial", subA.CA.Identifier, "zz", "", certs.ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.Lookup(t.Context(), tc.issuer, tc.serial)
			if !errors.Is(err, tc.wantErr) || got.Identifier != tc.want {
				t.Errorf("Lookup() = %s, %v; want %s, %v", got.Identifier, err, tc.want, tc.wantErr)
			}
		})
	}

	sub, _ := s.Lookup(t.Context(), root.CA.Identifier, "a")
	if d := diff(sub, subA.CA.AsRecord()); sub.Kind != certs.KindSubCA || d != "" {
		t.Errorf("Lookup(root, a) is not the sub CA's record view:%s", d)
	}
	if got, _ := s.Lookup(t.Context(), subB.CA.Identifier, "42"); !reflect.DeepEqual(got, leafB) {
		t.Errorf("Lookup(sub B, 42) differs:%s", diff(got, leafB))
	}
}

func TestStore_BySerial(t *testing.T) {
	s := dbtest.New(t)
	root := dbtest.RootCA("BySerial Root")
	subA, subB := dbtest.SubCA(root, 0x42, "BySerial A"), dbtest.SubCA(root, 0xb, "BySerial B")
	mustPutCA(t, s, root.CA, subA.CA, subB.CA)
	leafA, leafB, longer, zero := dbtest.Leaf(subA, 0x42), dbtest.Leaf(subB, 0x42), dbtest.Leaf(subA, 0x4200), dbtest.Leaf(subB, 0)
	mustPut(t, s, leafA, leafB, longer, zero)

	tests := []struct {
		name    string
		serial  certs.Serial
		want    []certs.Identifier
		wantErr error
	}{
		{"two issuers, leaves only", "42", []certs.Identifier{leafA.Identifier, leafB.Identifier}, nil},
		{"longer serial with the same prefix", "4200", []certs.Identifier{longer.Identifier}, nil},
		{"zero", "0", []certs.Identifier{zero.Identifier}, nil},
		{"only a sub CA has it", "b", nil, nil},
		{"unknown", "43", nil, nil},
		{"error/malformed", "zz", nil, certs.ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.BySerial(t.Context(), tc.serial)
			ids := idsOf(got)
			slices.Sort(ids)
			slices.Sort(tc.want)
			if !errors.Is(err, tc.wantErr) || !slices.Equal(ids, tc.want) {
				t.Errorf("BySerial(%s) = %v, %v; want %v, %v", tc.serial, ids, err, tc.want, tc.wantErr)
			}
		})
	}
}

func TestStore_ByCustomIdentifier(t *testing.T) {
	s := dbtest.New(t)
	root := dbtest.RootCA("Custom Root")
	mustPutCA(t, s, root.CA)
	r := dbtest.Leaf(root, 1)
	r.CustomIdentifier = "order/42 ü"
	mustPut(t, s, r, dbtest.Leaf(root, 2))
	if got, err := s.ByCustomIdentifier(t.Context(), r.CustomIdentifier); err != nil || !reflect.DeepEqual(got, r) {
		t.Errorf("ByCustomIdentifier() = %v:%s", err, diff(got, r))
	}
	for _, custom := range []string{"", "order/43", strings.ToUpper(r.CustomIdentifier)} {
		if _, err := s.ByCustomIdentifier(t.Context(), custom); !errors.Is(err, certs.ErrNotFound) {
			t.Errorf("ByCustomIdentifier(%q) = %v, want ErrNotFound", custom, err)
		}
	}
}

func TestStore_GetMany(t *testing.T) {
	s := dbtest.New(t)
	root := dbtest.RootCA("GetMany Root")
	mustPutCA(t, s, root.CA)
	a, b := dbtest.Leaf(root, 1), dbtest.Leaf(root, 2)
	mustPut(t, s, a, b)
	missing := certs.IdentifierOf([]byte("missing"))

	got, err := s.GetMany(t.Context(), []certs.Identifier{b.Identifier, missing, a.Identifier, b.Identifier, "garbage"})
	want := []certs.Record{b, {}, a, b, {}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("GetMany() = %v, %v; want %v", idsOf(got), err, idsOf(want))
	}
	if st := statusAt(t, got[1], base).Status; st != certs.Unknown {
		t.Errorf("missing record's status = %v, want unknown", st)
	}
	if got, err := s.GetMany(t.Context(), nil); err != nil || len(got) != 0 {
		t.Errorf("GetMany(nil) = %v, %v; want empty", got, err)
	}
	if _, err := s.Get(t.Context(), missing); !errors.Is(err, certs.ErrNotFound) {
		t.Errorf("Get(missing) = %v, want ErrNotFound", err)
	}
}

// Statuses answers GetMany's facts, with as many allocations for sixty
// identifiers as for six; LookupStatus answers as Lookup without the
// certificate, key, tags and names.
func TestStore_Statuses(t *testing.T) {
	s := dbtest.New(t)
	root := dbtest.RootCA("Statuses Root")
	mustPutCA(t, s, root.CA)
	a, b, c := dbtest.Leaf(root, 1), dbtest.Leaf(root, 2), dbtest.Leaf(root, 3)
	a.Tags, a.SealedKey, a.Alias = []certs.Tag{{Key: "k", Value: "v"}}, []byte("sealed"), "alias"
	mustPut(t, s, a, b, c)
	if _, err := s.Revoke(t.Context(), b.Identifier, certs.KeyCompromise, base); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Delete(t.Context(), c.Identifier, base); err != nil {
		t.Fatal(err)
	}
	ids := []certs.Identifier{c.Identifier, certs.IdentifierOf([]byte("missing")), a.Identifier, b.Identifier, "garbage", a.Identifier}
	full, err := s.GetMany(t.Context(), ids)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Statuses(t.Context(), ids)
	if err != nil {
		t.Fatal(err)
	}
	for i := range full {
		if got[i] != full[i].Facts() {
			t.Errorf("%s: Statuses = %+v, want %+v", ids[i], got[i], full[i].Facts())
		}
		if statusAt(t, got[i], base.Add(time.Hour)) != statusAt(t, full[i], base.Add(time.Hour)) {
			t.Errorf("%s: status differs from GetMany's", ids[i])
		}
	}
	for i, id := range ids {
		if full[i].Identifier == "" {
			continue
		}
		l, err := s.LookupStatus(t.Context(), full[i].Issuer, full[i].Serial)
		if want := full[i].Facts(); err != nil || l != want {
			t.Errorf("LookupStatus(%s) = %+v, %v; want %+v", id, l, err, want)
		}
	}
	sixty := slices.Repeat(ids, 10)
	six := testing.AllocsPerRun(20, func() { s.Statuses(t.Context(), ids) })
	if n := testing.AllocsPerRun(20, func() { s.Statuses(t.Context(), sixty) }); n != six {
		t.Errorf("Statuses allocates %v times for 60 identifiers, %v for 6; want the same", n, six)
	}
	if statusAt(t, got[3], base.Add(time.Hour)).Status != certs.Revoked || got[2].Serial != a.Serial || got[1].Found || !got[0].Found {
		t.Errorf("Statuses lost fields: %+v %+v", got[3], got[2])
	}
}

func TestStore_Revoke(t *testing.T) {
	s := dbtest.New(t)
	root := dbtest.RootCA("Revoke Root")
	mustPutCA(t, s, root.CA)
	r := dbtest.Leaf(root, 0x5)
	r.Alias, r.Tags = "keep me", []certs.Tag{{Key: "k", Value: "v"}}
	mustPut(t, s, r)
	at := base.In(time.FixedZone("CET", 3600)) // stored in UTC

	got, err := s.Revoke(t.Context(), r.Identifier, certs.KeyCompromise, at)
	want := r
	want.State, want.RevokedAt, want.Reason = certs.StateRevoked, base, certs.KeyCompromise
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("Revoke() = %v:%s", err, diff(got, want))
	}
	s = dbtest.Reopen(t, s)
	if d := diff(mustGet(t, s, r.Identifier), want); d != "" {
		t.Errorf("Get() after reopen differs:%s", d)
	}
	looked, _ := s.Lookup(t.Context(), root.CA.Identifier, r.Serial)
	a := statusAt(t, looked, base.Add(-time.Hour)) // before the revocation time, still revoked
	if a.Status != certs.Revoked || a.Reason != certs.KeyCompromise || !a.RevokedAt.Equal(base) {
		t.Errorf("StatusAt() = %+v, want revoked/keyCompromise at %v", a, base)
	}
}

func TestStore_Revoke_Twice(t *testing.T) {
	s := dbtest.New(t)
	root := dbtest.RootCA("Twice Root")
	mustPutCA(t, s, root.CA)
	r := dbtest.Leaf(root, 0x6)
	mustPut(t, s, r)
	first, err := s.Revoke(t.Context(), r.Identifier, certs.CessationOfOperation, base)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Revoke(t.Context(), r.Identifier, certs.KeyCompromise, base.Add(time.Hour))
	if !errors.Is(err, certs.ErrAlreadyRevoked) {
		t.Errorf("second Revoke() = %v, want ErrAlreadyRevoked", err)
	}
	if d := diff(got, first); d != "" {
		t.Errorf("second Revoke() does not return the first facts:%s", d)
	}
	if d := diff(mustGet(t, dbtest.Reopen(t, s), r.Identifier), first); d != "" {
		t.Errorf("after reopen the first revocation is not kept:%s", d)
	}
}

func TestStore_Revoke_Errors(t *testing.T) {
	s := dbtest.New(t)
	root := dbtest.RootCA("Revoke Errors Root")
	mustPutCA(t, s, root.CA)
	r := dbtest.Leaf(root, 0x7)
	mustPut(t, s, r)
	tests := []struct {
		name   string
		id     certs.Identifier
		reason certs.Reason
		at     time.Time
		want   error
	}{
		{"error/removeFromCRL", r.Identifier, certs.RemoveFromCRL, base, certs.ErrInvalid},
		{"error/unused reason code 7", r.Identifier, certs.Reason(7), base, certs.ErrInvalid},
		{"error/zero time", r.Identifier, certs.KeyCompromise, time.Time{}, certs.ErrInvalid},
		{"error/unknown identifier", certs.IdentifierOf([]byte("nope")), certs.KeyCompromise, base, certs.ErrNotFound},
		{"error/a CA identifier", root.CA.Identifier, certs.KeyCompromise, base, certs.ErrNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := s.Revoke(t.Context(), tc.id, tc.reason, tc.at); !errors.Is(err, tc.want) {
				t.Errorf("Revoke() = %v, want %v", err, tc.want)
			}
			if d := diff(mustGet(t, s, r.Identifier), r); d != "" {
				t.Errorf("record changed by a failed Revoke:%s", d)
			}
		})
	}
}

func TestStore_Delete_KeepsRevocation(t *testing.T) {
	s := dbtest.New(t)
	root := dbtest.RootCA("Delete Root")
	mustPutCA(t, s, root.CA)
	r, kept := dbtest.Leaf(root, 0x8), dbtest.Leaf(root, 0x9)
	r.CustomIdentifier = "order-8"
	mustPut(t, s, r, kept)
	ctx := t.Context()
	if _, err := s.Revoke(ctx, r.Identifier, certs.KeyCompromise, base); err != nil {
		t.Fatal(err)
	}
	got, err := s.Delete(ctx, r.Identifier, base.Add(time.Hour))
	want := r
	want.State, want.RevokedAt, want.Reason = certs.StateRevoked, base, certs.KeyCompromise
	want.Deleted, want.DeletedAt = true, base.Add(time.Hour)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("Delete() = %v:%s", err, diff(got, want))
	}
	if _, err := s.Delete(ctx, r.Identifier, base.Add(2*time.Hour)); !errors.Is(err, certs.ErrNotFound) {
		t.Errorf("second Delete() = %v, want ErrNotFound", err)
	}
	if _, err := s.Delete(ctx, certs.IdentifierOf(nil), base); !errors.Is(err, certs.ErrNotFound) {
		t.Errorf("Delete(unknown) = %v, want ErrNotFound", err)
	}
	if err := s.Put(ctx, dbtest.Leaf(root, 0x8)); !errors.Is(err, certs.ErrExists) {
		t.Errorf("Put() of a deleted certificate's serial = %v, want ErrExists", err)
	}

	s = dbtest.Reopen(t, s)
	for name, read := range map[string]func() (certs.Record, error){
		"Get":    func() (certs.Record, error) { return s.Get(ctx, r.Identifier) },
		"Lookup": func() (certs.Record, error) { return s.Lookup(ctx, root.CA.Identifier, r.Serial) },
		"BySerial": func() (certs.Record, error) {
			rs, err := s.BySerial(ctx, r.Serial)
			if len(rs) != 1 {
				return certs.Record{}, errors.New("not exactly one record")
			}
			return rs[0], err
		},
		"ByCustomIdentifier": func() (certs.Record, error) { return s.ByCustomIdentifier(ctx, "order-8") },
	} {
		got, err := read()
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s after delete = %v:%s", name, err, diff(got, want))
		}
		if st := statusAt(t, got, base.Add(3*time.Hour)).Status; st != certs.Revoked {
			t.Errorf("%s after delete: status %v, want revoked", name, st)
		}
	}
	if list, _, _ := s.List(ctx, certs.Filter{}); !slices.Equal(idsOf(list), []certs.Identifier{kept.Identifier}) {
		t.Errorf("List() = %v, want only %s", idsOf(list), kept.Identifier)
	}
	if list, _, _ := s.List(ctx, certs.Filter{IncludeDeleted: true}); len(list) != 2 {
		t.Errorf("List(IncludeDeleted) has %d records, want 2", len(list))
	}
}

func TestStore_Delete_ThenRevoke(t *testing.T) {
	s := dbtest.New(t)
	root := dbtest.RootCA("Delete Revoke Root")
	mustPutCA(t, s, root.CA)
	r := dbtest.Leaf(root, 0xa)
	mustPut(t, s, r)
	if _, err := s.Delete(t.Context(), r.Identifier, base); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Revoke(t.Context(), r.Identifier, certs.Superseded, base.Add(time.Minute)); err != nil {
		t.Fatalf("Revoke() of a deleted certificate: %v", err)
	}
	got := mustGet(t, dbtest.Reopen(t, s), r.Identifier)
	if !got.Deleted || got.State != certs.StateRevoked || got.Reason != certs.Superseded {
		t.Errorf("got deleted=%v state=%v reason=%v, want deleted, revoked, superseded", got.Deleted, got.State, got.Reason)
	}
}

// TestStore_Revoke_ReturnsStoredRecord: what Revoke and Delete return must be
// what later reads return, or the API's answer to a revocation disagrees
// with every later status query.
func TestStore_Revoke_ReturnsStoredRecord(t *testing.T) {
	s := dbtest.New(t)
	root := dbtest.RootCA("Precision Root")
	mustPutCA(t, s, root.CA)
	r := dbtest.Leaf(root, 0xb)
	mustPut(t, s, r)
	at := base.Add(123 * time.Nanosecond)
	revoked, err := s.Revoke(t.Context(), r.Identifier, certs.KeyCompromise, at)
	if d := diff(mustGet(t, s, r.Identifier), revoked); err != nil || d != "" {
		t.Errorf("Revoke() = %v, and returned a record unlike the stored one:%s", err, d)
	}
	deleted, err := s.Delete(t.Context(), r.Identifier, at)
	if d := diff(mustGet(t, s, r.Identifier), deleted); err != nil || d != "" {
		t.Errorf("Delete() = %v, and returned a record unlike the stored one:%s", err, d)
	}
}

// statusAt is StatusAt for a record or facts that must decide.
func statusAt(t *testing.T, f interface {
	StatusAt(time.Time) (certs.Answer, error)
}, at time.Time) certs.Answer {
	t.Helper()
	a, err := f.StatusAt(at)
	if err != nil {
		t.Fatalf("StatusAt: %v", err)
	}
	return a
}
