package db_test

import (
	"errors"
	"testing"
	"time"

	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/db/dbtest"
)

func TestStore_UpdateRecord(t *testing.T) {
	s := dbtest.New(t)
	root := dbtest.RootCA("Update Root")
	mustPutCA(t, s, root.CA)
	r := dbtest.Leaf(root, 0x51)
	mustPut(t, s, r)
	got, err := s.UpdateRecord(t.Context(), r.Identifier, func(r *certs.Record) error {
		r.Alias, r.Tags = "renamed", []certs.Tag{{Key: "env", Value: "prod"}}
		return nil
	})
	if err != nil || got.Alias != "renamed" || len(got.Tags) != 1 {
		t.Fatalf("UpdateRecord = %+v, %v", got, err)
	}
	s = dbtest.Reopen(t, s)
	if d := diff(mustGet(t, s, r.Identifier), got); d != "" {
		t.Errorf("stored record differs from the returned one:%s", d)
	}
	for name, mut := range map[string]func(*certs.Record){
		"error/state":             func(r *certs.Record) { r.State, r.RevokedAt = certs.StateRevoked, time.Now() },
		"error/serial":            func(r *certs.Record) { r.Serial = "1" },
		"error/der":               func(r *certs.Record) { r.DER = []byte{1} },
		"error/custom identifier": func(r *certs.Record) { r.CustomIdentifier = "x" },
		"error/deleted":           func(r *certs.Record) { r.Deleted = true },
		"error/created":           func(r *certs.Record) { r.CreatedAt = r.CreatedAt.Add(time.Hour) }, // the listing index's key
	} {
		t.Run(name, func(t *testing.T) {
			_, err := s.UpdateRecord(t.Context(), r.Identifier, func(r *certs.Record) error { mut(r); return nil })
			if !errors.Is(err, certs.ErrInvalid) {
				t.Fatalf("got %v, want ErrInvalid", err)
			}
		})
	}
	boom := errors.New("boom")
	if _, err := s.UpdateRecord(t.Context(), r.Identifier, func(*certs.Record) error { return boom }); !errors.Is(err, boom) {
		t.Errorf("fn error: %v", err)
	}
	if _, err := s.UpdateRecord(t.Context(), certs.IdentifierOf([]byte("none")), func(*certs.Record) error { return nil }); !errors.Is(err, certs.ErrNotFound) {
		t.Errorf("unknown id: %v", err)
	}
	if after := mustGet(t, s, r.Identifier); after.Alias != "renamed" || after.State != certs.StateIssued {
		t.Errorf("failed updates changed the record: %+v", after)
	}
}

func TestStore_UpdateDeleteAccessKey(t *testing.T) {
	s := dbtest.New(t)
	k := certs.AccessKey{ID: "LTAIupdate", SealedSecret: []byte("sealed"), Owner: "alice", CreatedAt: base}
	if err := s.PutAccessKey(t.Context(), k); err != nil {
		t.Fatal(err)
	}
	got, err := s.UpdateAccessKey(t.Context(), k.ID, func(k *certs.AccessKey) error { k.Disabled, k.QPS = true, 50; return nil })
	if err != nil || !got.Disabled || got.QPS != 50 {
		t.Fatalf("UpdateAccessKey = %+v, %v", got, err)
	}
	s = dbtest.Reopen(t, s)
	if again, _ := s.AccessKey(t.Context(), k.ID); !again.Disabled || again.QPS != 50 {
		t.Errorf("not durable: %+v", again)
	}
	if _, err := s.UpdateAccessKey(t.Context(), k.ID, func(k *certs.AccessKey) error { k.ID = "other"; return nil }); !errors.Is(err, certs.ErrInvalid) {
		t.Errorf("id change: %v", err)
	}
	if _, err := s.UpdateAccessKey(t.Context(), k.ID, func(k *certs.AccessKey) error { k.QPS = -1; return nil }); !errors.Is(err, certs.ErrInvalid) {
		t.Errorf("negative QPS: %v", err)
	}
	if err := s.DeleteAccessKey(t.Context(), k.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AccessKey(t.Context(), k.ID); !errors.Is(err, certs.ErrNotFound) {
		t.Errorf("deleted key still there: %v", err)
	}
	if err := s.DeleteAccessKey(t.Context(), k.ID); !errors.Is(err, certs.ErrNotFound) {
		t.Errorf("second delete: %v", err)
	}
}

func TestStore_Tokens(t *testing.T) {
	s := dbtest.New(t)
	ctx := t.Context()
	if _, _, err := s.Token(ctx, "k1"); !errors.Is(err, certs.ErrNotFound) {
		t.Fatalf("missing token: %v", err)
	}
	if err := s.PutToken(ctx, "k1", []byte(`{"Identifier":"a"}`), base); err != nil {
		t.Fatal(err)
	}
	if err := s.PutToken(ctx, "k1", []byte("other"), base); !errors.Is(err, certs.ErrExists) {
		t.Errorf("second put: %v", err)
	}
	if err := s.PutToken(ctx, "", nil, base); !errors.Is(err, certs.ErrInvalid) {
		t.Errorf("empty key: %v", err)
	}
	s = dbtest.Reopen(t, s)
	v, at, err := s.Token(ctx, "k1")
	if err != nil || string(v) != `{"Identifier":"a"}` || !at.Equal(base.Truncate(time.Microsecond)) {
		t.Fatalf("Token = %q %v %v", v, at, err)
	}
	for i, k := range []string{"k2", "k3", "k4"} {
		if err := s.PutToken(ctx, k, nil, base.Add(time.Duration(i+1)*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	n, err := s.PruneTokens(ctx, base.Add(time.Hour+time.Minute))
	if err != nil || n != 2 {
		t.Fatalf("PruneTokens = %d, %v; want 2 (k1, k2)", n, err)
	}
	for k, want := range map[string]bool{"k1": false, "k2": false, "k3": true, "k4": true} {
		_, _, err := s.Token(ctx, k)
		if (err == nil) != want {
			t.Errorf("token %s present=%v, want %v", k, err == nil, want)
		}
	}
}
