package ca_test

import (
	"context"
	"errors"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certstatus/certstatus/certs"
)

func TestIssue_BadParameters(t *testing.T) {
	f := newFixture(t)
	cn := certs.Subject{CommonName: "x"}
	d := certs.Validity{Days: 10}
	cases := []struct {
		name string
		req  certs.IssueRequest
		want error
		msg  string
	}{
		{"error/kind CA", certs.IssueRequest{Kind: certs.KindSubCA, Subject: cn, Validity: d}, certs.ErrInvalid, "CLIENT or SERVER"},
		{"error/no name at all", certs.IssueRequest{Kind: certs.KindClient, Validity: d}, certs.ErrInvalid, "common name or a subject alternative name"},
		{"error/server without DNS or IP", certs.IssueRequest{Kind: certs.KindServer, Subject: certs.Subject{CommonName: "Web Server"}, Validity: d}, certs.ErrInvalid, "DNS name or IP"},
		{"error/bad country", certs.IssueRequest{Kind: certs.KindClient, Subject: certs.Subject{CommonName: "x", Country: "China"}, Validity: d}, certs.ErrInvalid, "two upper-case"},
		{"error/control char", certs.IssueRequest{Kind: certs.KindClient, Subject: certs.Subject{CommonName: "a\nb"}, Validity: d}, certs.ErrInvalid, "control character"},
		{"error/bad DNS", certs.IssueRequest{Kind: certs.KindServer, Subject: cn, SANs: certs.SANs{DNSNames: []string{"-bad-.example.com"}}, Validity: d}, certs.ErrInvalid, "hyphen"},
		{"error/bad email", certs.IssueRequest{Kind: certs.KindClient, Subject: cn, SANs: certs.SANs{Emails: []string{"Alice <a@b.c>"}}, Validity: d}, certs.ErrInvalid, "e-mail"},
		{"error/URI host with an empty label", certs.IssueRequest{Kind: certs.KindClient, Subject: cn, SANs: certs.SANs{URIs: []*url.URL{{Scheme: "spiffe", Host: ".00"}}}, Validity: d}, certs.ErrInvalid, "empty label"},
		{"error/URI with a fragment", certs.IssueRequest{Kind: certs.KindClient, Subject: cn, SANs: certs.SANs{URIs: []*url.URL{{Scheme: "spiffe", Host: "td", Path: "/a", Fragment: "b"}}}, Validity: d}, certs.ErrInvalid, "fragment"},
		{"error/URI that reads as an e-mail", certs.IssueRequest{Kind: certs.KindClient, Subject: cn, SANs: certs.SANs{URIs: []*url.URL{{Scheme: "urn", Opaque: "x@y.z;"}}}, Validity: d}, certs.ErrInvalid, "e-mail"},
		{"error/non-ASCII URI", certs.IssueRequest{Kind: certs.KindClient, Subject: cn, SANs: certs.SANs{URIs: []*url.URL{{Scheme: "https", Host: "bücher.example"}}}, Validity: d}, certs.ErrInvalid, "ASCII"},
		{"error/bad IP", certs.IssueRequest{Kind: certs.KindClient, Subject: cn, SANs: certs.SANs{IPs: []net.IP{{1, 2, 3}}}, Validity: d}, certs.ErrInvalid, "IP"},
		{"error/no validity", certs.IssueRequest{Kind: certs.KindClient, Subject: cn}, certs.ErrInvalid, "validity"},
		{"error/negative days", certs.IssueRequest{Kind: certs.KindClient, Subject: cn, Validity: certs.Validity{Days: -1}}, certs.ErrInvalid, "positive"},
		{"error/only not-after", certs.IssueRequest{Kind: certs.KindClient, Subject: cn, Validity: certs.Validity{NotAfter: time.Now().Add(time.Hour)}}, certs.ErrInvalid, "go together"},
		{"error/not-after before not-before", certs.IssueRequest{Kind: certs.KindClient, Subject: cn, Validity: certs.Validity{NotBefore: time.Now().Add(2 * time.Hour), NotAfter: time.Now().Add(time.Hour)}}, certs.ErrInvalid, "is not after"},
		{"error/beyond CA validity", certs.IssueRequest{Kind: certs.KindClient, Subject: cn, Validity: certs.Validity{Days: 3000}}, certs.ErrInvalid, "beyond the issuing CA"},
		{"error/before CA validity", certs.IssueRequest{Kind: certs.KindClient, Subject: cn, Validity: certs.Validity{NotBefore: time.Now().AddDate(-1, 0, 0), NotAfter: time.Now().Add(time.Hour)}}, certs.ErrInvalid, "before the issuing CA"},
		{"error/weak algorithm", certs.IssueRequest{Kind: certs.KindClient, Subject: cn, Validity: d, Algorithm: "RSA_1024"}, certs.ErrInvalid, "too weak"},
		{"error/unknown issuer", certs.IssueRequest{Issuer: "0123456789abcdef0123456789abcdef", Kind: certs.KindClient, Subject: cn, Validity: d}, certs.ErrNotFound, "CA"},
		{"error/root as issuer", certs.IssueRequest{Issuer: "ROOT", Kind: certs.KindClient, Subject: cn, Validity: d}, certs.ErrIssuerUnusable, "root"},
		{"error/custom identifier too long", certs.IssueRequest{Kind: certs.KindClient, Subject: cn, Validity: d, CustomIdentifier: strings.Repeat("c", 129)}, certs.ErrInvalid, "128"},
		{"error/custom identifier shaped like an identifier", certs.IssueRequest{Kind: certs.KindClient, Subject: cn, Validity: d, CustomIdentifier: "0123456789abcdef0123456789ABCDEF"}, certs.ErrInvalid, "custom identifier: 32 hexadecimal digits"},
		{"error/custom identifier with NUL", certs.IssueRequest{Kind: certs.KindClient, Subject: cn, Validity: d, CustomIdentifier: "dev\x00ice"}, certs.ErrInvalid, "custom identifier: character '\\x00'"},
		{"error/custom identifier with slash", certs.IssueRequest{Kind: certs.KindClient, Subject: cn, Validity: d, CustomIdentifier: "fleet/1"}, certs.ErrInvalid, "custom identifier: character '/'"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := tc.req
			switch req.Issuer {
			case "":
				req.Issuer = f.sub.Identifier
			case "ROOT":
				req.Issuer = f.root.Identifier
			}
			n, _ := f.store.Count(context.Background(), dbFilterAll)
			_, err := f.auth.Issue(context.Background(), req)
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("got %v, want %v containing %q", err, tc.want, tc.msg)
			}
			if m, _ := f.store.Count(context.Background(), dbFilterAll); m != n {
				t.Error("a refused request stored a certificate")
			}
		})
	}
	t.Run("error/duplicate custom identifier", func(t *testing.T) {
		f.issue(t, certs.IssueRequest{Kind: certs.KindClient, Subject: cn, CustomIdentifier: "dup"})
		_, err := f.auth.Issue(context.Background(), certs.IssueRequest{Issuer: f.sub.Identifier, Kind: certs.KindClient, Subject: cn, Validity: d, CustomIdentifier: "dup"})
		if !errors.Is(err, certs.ErrExists) {
			t.Fatalf("got %v, want ErrExists", err)
		}
	})
}

func TestIssue_UnusableIssuer(t *testing.T) {
	ctx := context.Background()
	req := func(f *fixture) certs.IssueRequest {
		return certs.IssueRequest{Issuer: f.sub.Identifier, Kind: certs.KindClient, Subject: certs.Subject{CommonName: "x"}, Validity: certs.Validity{Days: 1}}
	}
	t.Run("error/revoked sub CA", func(t *testing.T) {
		f := newFixture(t)
		if _, err := f.auth.RevokeCA(ctx, f.sub.Identifier, certs.KeyCompromise, time.Time{}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.auth.Issue(ctx, req(f)); !errors.Is(err, certs.ErrIssuerUnusable) || !strings.Contains(err.Error(), "revoked") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("error/revoked root", func(t *testing.T) {
		f := newFixture(t)
		if _, err := f.auth.RevokeCA(ctx, f.root.Identifier, certs.CACompromise, time.Time{}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.auth.Issue(ctx, req(f)); !errors.Is(err, certs.ErrIssuerUnusable) || !strings.Contains(err.Error(), "chains to revoked") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("error/expired sub CA", func(t *testing.T) {
		f := newFixture(t)
		f.clock.t = f.sub.NotAfter.Add(time.Second)
		if _, err := f.auth.Issue(ctx, req(f)); !errors.Is(err, certs.ErrIssuerUnusable) || !strings.Contains(err.Error(), "expired") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("error/disabled then enabled", func(t *testing.T) {
		f := newFixture(t)
		if _, err := f.auth.SetCADisabled(ctx, f.sub.Identifier, true); err != nil {
			t.Fatal(err)
		}
		if _, err := f.auth.Issue(ctx, req(f)); !errors.Is(err, certs.ErrIssuerUnusable) || !strings.Contains(err.Error(), "disabled") {
			t.Fatalf("got %v", err)
		}
		if _, err := f.auth.SetCADisabled(ctx, f.sub.Identifier, false); err != nil {
			t.Fatal(err)
		}
		if _, err := f.auth.Issue(ctx, req(f)); err != nil {
			t.Fatalf("re-enabled CA: %v", err)
		}
	})
}

func TestRevoke(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	rec := f.issue(t, certs.IssueRequest{Kind: certs.KindClient, Subject: certs.Subject{CommonName: "r"}}).Record
	at := f.clock.t.Add(-time.Hour).UTC().Truncate(time.Second)
	got, err := f.auth.Revoke(ctx, rec.Identifier, certs.KeyCompromise, at)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != certs.StateRevoked || !got.RevokedAt.Equal(at) || got.Reason != certs.KeyCompromise {
		t.Errorf("revoked record %v %v %v", got.State, got.RevokedAt, got.Reason)
	}
	if a, err := got.StatusAt(time.Now()); err != nil || a.Status != certs.Revoked || a.Reason != certs.KeyCompromise {
		t.Errorf("StatusAt: %+v, %v", a, err)
	}
	_, err = f.auth.Revoke(ctx, rec.Identifier, certs.Superseded, time.Time{})
	if !errors.Is(err, certs.ErrAlreadyRevoked) {
		t.Fatalf("second revoke: %v, want ErrAlreadyRevoked", err)
	}
	kept, _ := f.store.Get(ctx, rec.Identifier)
	if kept.Reason != certs.KeyCompromise || !kept.RevokedAt.Equal(at) {
		t.Errorf("first revocation's facts changed: %v %v", kept.Reason, kept.RevokedAt)
	}
	other := f.issue(t, certs.IssueRequest{Kind: certs.KindClient, Subject: certs.Subject{CommonName: "o"}}).Record
	for name, tc := range map[string]struct {
		reason certs.Reason
		at     time.Time
		msg    string
	}{
		"error/removeFromCRL": {certs.RemoveFromCRL, time.Time{}, "not a reason"},
		"error/code 7":        {certs.Reason(7), time.Time{}, "not a reason"},
		"error/future":        {certs.Unspecified, f.clock.t.Add(time.Hour), "future"},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := f.auth.Revoke(ctx, other.Identifier, tc.reason, tc.at); !errors.Is(err, certs.ErrInvalid) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("got %v", err)
			}
		})
	}
	if r, _ := f.store.Get(ctx, other.Identifier); r.State != certs.StateIssued {
		t.Error("a refused revocation changed the record")
	}
	if _, err := f.auth.Revoke(ctx, "0123456789abcdef0123456789abcdef", certs.Unspecified, time.Time{}); !errors.Is(err, certs.ErrNotFound) {
		t.Errorf("unknown certificate: %v", err)
	}
	if _, err := f.auth.RevokeCA(ctx, f.sub.Identifier, certs.Superseded, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.auth.RevokeCA(ctx, f.sub.Identifier, certs.KeyCompromise, time.Time{}); !errors.Is(err, certs.ErrAlreadyRevoked) {
		t.Errorf("second CA revoke: %v", err)
	}
}

// TestOpenSSLVerify checks the issued chain with the real openssl binary.
func TestOpenSSLVerify(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Fatal("openssl is required for interop tests (.ci/run installs it)")
	}
	f := newFixture(t)
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	root := write("root.pem", certs.EncodeCertPEM(f.root.DER))
	sub := write("sub.pem", certs.EncodeCertPEM(f.sub.DER))
	for _, kind := range []certs.Kind{certs.KindClient, certs.KindServer} {
		out := f.issue(t, certs.IssueRequest{Kind: kind, Subject: certs.Subject{CommonName: "openssl.example.com"}})
		leaf := write(kind.String()+".pem", certs.EncodeCertPEM(out.Record.DER))
		key := write(kind.String()+".key", out.KeyPEM)
		purpose := map[certs.Kind]string{certs.KindClient: "sslclient", certs.KindServer: "sslserver"}[kind]
		cmd := exec.Command(openssl, "verify", "-x509_strict", "-purpose", purpose, "-CAfile", root, "-untrusted", sub, leaf)
		if b, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(b), ": OK") {
			t.Errorf("openssl verify %v: %v\n%s", kind, err, b)
		}
		// The key file is a PKCS#8 key openssl reads and that matches.
		pub1, err1 := exec.Command(openssl, "pkey", "-in", key, "-pubout").Output()
		pub2, err2 := exec.Command(openssl, "x509", "-in", leaf, "-noout", "-pubkey").Output()
		if err1 != nil || err2 != nil || string(pub1) != string(pub2) {
			t.Errorf("openssl: key does not match certificate: %v %v", err1, err2)
		}
	}
}
