package certs_test

import (
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/certstatus/certstatus/certs"
)

func TestIdentifier(t *testing.T) {
	id := certs.IdentifierOf([]byte("some DER"))
	if len(id) != certs.IdentifierLen || !id.Valid() || strings.ToLower(string(id)) != string(id) {
		t.Fatalf("IdentifierOf = %q", id)
	}
	if certs.IdentifierOf([]byte("some DER")) != id {
		t.Error("identifier is not deterministic")
	}
	for in, want := range map[string]string{
		" " + string(id) + " ":               string(id),
		strings.ToUpper(string(id)):          string(id),
		"00112233445566778899aabbccddee":     "",
		"00112233445566778899aabbccddeeffaa": "",
		"0011223344556677889 aabbccddeeff":   "",
		"g0112233445566778899aabbccddeeff":   "",
	} {
		got, err := certs.ParseIdentifier(in)
		if want == "" {
			if !errors.Is(err, certs.ErrInvalid) {
				t.Errorf("ParseIdentifier(%q) = %q, %v; want ErrInvalid", in, got, err)
			}
			continue
		}
		if err != nil || string(got) != want {
			t.Errorf("ParseIdentifier(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if certs.Identifier("ABCDEF0123456789ABCDEF0123456789").Valid() {
		t.Error("upper-case identifier reported valid as stored form")
	}
}

func TestSerial(t *testing.T) {
	n, _ := new(big.Int).SetString("00ff00aa", 16)
	if got := certs.SerialFromBig(n); got != "ff00aa" {
		t.Errorf("SerialFromBig = %q", got)
	}
	for in, want := range map[string]string{
		"FF:00:AA": "ff00aa", "0x00ff00aa": "ff00aa", " ff 00 aa ": "ff00aa", "0": "0", "000": "0",
	} {
		if got, err := certs.ParseSerial(in); err != nil || string(got) != want {
			t.Errorf("ParseSerial(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "xyz", "12-34", strings.Repeat("f", 43)} {
		if _, err := certs.ParseSerial(in); !errors.Is(err, certs.ErrInvalid) {
			t.Errorf("ParseSerial(%q): %v, want ErrInvalid", in, err)
		}
	}
	// Index bytes keep a negative serial distinct from positive ones.
	neg := certs.SerialFromBig(big.NewInt(-255))
	pos := certs.SerialFromBig(big.NewInt(255))
	if string(neg.Bytes()) == string(pos.Bytes()) {
		t.Error("negative and positive serial share index bytes")
	}
	if b := certs.Serial("ff01").Bytes(); b[0] == 0 {
		t.Error("positive serial bytes start with 0x00")
	}
}

func TestReason(t *testing.T) {
	for in, want := range map[string]certs.Reason{
		"keyCompromise": certs.KeyCompromise, "key-compromise": certs.KeyCompromise, "KEY_COMPROMISE": certs.KeyCompromise,
		"1": certs.KeyCompromise, "cACompromise": certs.CACompromise, "superseded": certs.Superseded,
		"cessation of operation": certs.CessationOfOperation, "certificateHold": certs.CertificateHold,
		"0": certs.Unspecified, "10": certs.AACompromise, "privilegeWithdrawn": certs.PrivilegeWithdrawn,
	} {
		got, err := certs.ParseReason(in)
		if err != nil || got != want {
			t.Errorf("ParseReason(%q) = %v, %v; want %v", in, got, err, want)
		}
		if back, _ := certs.ParseReason(got.String()); back != got {
			t.Errorf("String/Parse round trip of %v", got)
		}
	}
	for _, in := range []string{"7", "11", "-1", "compromised", ""} {
		if _, err := certs.ParseReason(in); !errors.Is(err, certs.ErrInvalid) {
			t.Errorf("ParseReason(%q): %v, want ErrInvalid", in, err)
		}
	}
	if certs.RemoveFromCRL.Revocable() || !certs.KeyCompromise.Revocable() || certs.Reason(7).Revocable() {
		t.Error("Revocable")
	}
}

func TestKindState(t *testing.T) {
	for in, want := range map[string]certs.Kind{"CLIENT": certs.KindClient, "server": certs.KindServer, "SUB_ROOT": certs.KindSubCA, "root": certs.KindRootCA} {
		if got, err := certs.ParseKind(in); err != nil || got != want {
			t.Errorf("ParseKind(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := certs.ParseKind("END_ENTITY"); !errors.Is(err, certs.ErrInvalid) {
		t.Error("ParseKind accepted END_ENTITY")
	}
	if certs.KindClient.String() != "CLIENT" || certs.KindSubCA.String() != "SUB_ROOT" || !certs.KindRootCA.IsCA() || certs.KindServer.IsCA() {
		t.Error("Kind strings")
	}
	if certs.StateIssued.String() != "ISSUE" || certs.StateRevoked.String() != "REVOKE" {
		t.Error("State strings")
	}
	if s, err := certs.ParseState("revoke"); err != nil || s != certs.StateRevoked {
		t.Error("ParseState")
	}
	if certs.Good.String() != "good" || certs.Revoked.String() != "revoked" || certs.Unknown.String() != "unknown" || certs.Status(0) != certs.Unknown {
		t.Error("Status strings / zero value")
	}
}

func TestStatusAt(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	base := certs.Record{
		Identifier: certs.IdentifierOf([]byte("x")), State: certs.StateIssued,
		NotBefore: now.Add(-24 * time.Hour), NotAfter: now.Add(24 * time.Hour),
	}
	revoked := base
	revoked.State, revoked.RevokedAt, revoked.Reason = certs.StateRevoked, now.Add(-time.Hour), certs.KeyCompromise
	deletedRevoked := revoked
	deletedRevoked.Deleted = true
	deletedGood := base
	deletedGood.Deleted = true
	cases := []struct {
		name    string
		rec     certs.Record
		at      time.Time
		want    certs.Status
		expired bool
	}{
		{"unknown/zero record", certs.Record{}, now, certs.Unknown, false},
		{"good", base, now, certs.Good, false},
		{"good/expired", base, now.Add(48 * time.Hour), certs.Good, true},
		{"revoked/keyCompromise", revoked, now, certs.Revoked, false},
		{"revoked/asked before the revocation time (clock stepped back)", revoked, now.Add(-2 * time.Hour), certs.Revoked, false},
		{"revoked/deleted stays revoked", deletedRevoked, now, certs.Revoked, false},
		{"good/deleted stays good", deletedGood, now, certs.Good, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, err := tc.rec.StatusAt(tc.at)
			if err != nil {
				t.Fatal(err)
			}
			if a.Status != tc.want || a.Expired != tc.expired {
				t.Fatalf("got %v expired=%v, want %v expired=%v", a.Status, a.Expired, tc.want, tc.expired)
			}
			if a.Status == certs.Revoked && (a.Reason != certs.KeyCompromise || !a.RevokedAt.Equal(revoked.RevokedAt)) {
				t.Errorf("revocation facts %v %v", a.Reason, a.RevokedAt)
			}
		})
	}
}

// TestStatusAt_FailsClosed: a record no writer stores (a flipped state
// byte, a revocation without time or with a reason no revocation carries)
// is an error wrapping ErrCorrupt, never a status.
func TestStatusAt_FailsClosed(t *testing.T) {
	now := time.Now()
	base := certs.Record{Identifier: certs.IdentifierOf([]byte("x")), Serial: "1f", State: certs.StateRevoked,
		RevokedAt: now.Add(-time.Hour), Reason: certs.KeyCompromise, NotAfter: now.Add(time.Hour)}
	for name, mut := range map[string]func(*certs.Record){
		"state 0":                    func(r *certs.Record) { r.State = 0 },
		"state 3":                    func(r *certs.Record) { r.State = 3 },
		"state 255":                  func(r *certs.Record) { r.State = 255 },
		"revoked without time":       func(r *certs.Record) { r.RevokedAt = time.Time{} },
		"revoked for reason 7":       func(r *certs.Record) { r.Reason = 7 },
		"revoked for removeFromCRL":  func(r *certs.Record) { r.Reason = certs.RemoveFromCRL },
		"revoked for a negative one": func(r *certs.Record) { r.Reason = -1 },
	} {
		t.Run(name, func(t *testing.T) {
			r := base
			mut(&r)
			a, err := r.StatusAt(now)
			if !errors.Is(err, certs.ErrCorrupt) || a.Status != certs.Unknown {
				t.Errorf("StatusAt = %v, %v; want no status and ErrCorrupt", a.Status, err)
			}
		})
	}
}

func TestRecordValidate(t *testing.T) {
	good := certs.Record{
		Identifier: certs.IdentifierOf([]byte("d")), Issuer: certs.IdentifierOf([]byte("i")), Serial: "1f",
		Kind: certs.KindClient, DER: []byte("d"), State: certs.StateIssued,
	}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	bad := map[string]func(*certs.Record){
		"bad identifier":       func(r *certs.Record) { r.Identifier = "x" },
		"bad issuer":           func(r *certs.Record) { r.Issuer = "" },
		"bad serial":           func(r *certs.Record) { r.Serial = "zz" },
		"CA kind":              func(r *certs.Record) { r.Kind = certs.KindRootCA },
		"no DER":               func(r *certs.Record) { r.DER = nil },
		"revoked without time": func(r *certs.Record) { r.State = certs.StateRevoked },
		"revoked removeFromCRL": func(r *certs.Record) {
			r.State, r.RevokedAt, r.Reason = certs.StateRevoked, time.Now(), certs.RemoveFromCRL
		},
		"no state": func(r *certs.Record) { r.State = 0 },
	}
	for name, mut := range bad {
		r := good
		mut(&r)
		if err := r.Validate(); !errors.Is(err, certs.ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
}

func TestCACanIssueAt(t *testing.T) {
	now := time.Now()
	c := certs.CA{Identifier: "c", State: certs.StateIssued, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour)}
	if err := c.CanIssueAt(now); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		mut func(*certs.CA)
		at  time.Time
		msg string
	}{
		"revoked":  {func(c *certs.CA) { c.State = certs.StateRevoked }, now, "revoked"},
		"disabled": {func(c *certs.CA) { c.Disabled = true }, now, "disabled"},
		"early":    {func(*certs.CA) {}, now.Add(-2 * time.Hour), "not valid before"},
		"expired":  {func(*certs.CA) {}, now.Add(time.Hour), "expired"},
	} {
		cc := c
		tc.mut(&cc)
		if err := cc.CanIssueAt(tc.at); !errors.Is(err, certs.ErrIssuerUnusable) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestParseRevocationReason(t *testing.T) {
	for in, want := range map[string]certs.Reason{"keyCompromise": certs.KeyCompromise, "superseded": certs.Superseded, "0": certs.Unspecified} {
		if r, err := certs.ParseRevocationReason(in); err != nil || r != want {
			t.Errorf("%q = %v, %v; want %v", in, r, err, want)
		}
	}
	for _, in := range []string{"removeFromCRL", "8", "7", "nonsense", ""} {
		if r, err := certs.ParseRevocationReason(in); !errors.Is(err, certs.ErrInvalid) {
			t.Errorf("%q = %v, %v; want ErrInvalid", in, r, err)
		}
	}
}
