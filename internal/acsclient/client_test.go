package acsclient

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/certstatus/certstatus/internal/acsauth"
)

// TestCall_V3SignatureVerifies checks the request against acsauth's own
// verification rules, as the server applies them.
func TestCall_V3SignatureVerifies(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, err := acsauth.ParseAuthorization(r.Header.Get("Authorization"))
		if err != nil || a.AccessKeyID != "LTAIk" {
			t.Errorf("authorization: %+v %v", a, err)
		}
		if err := acsauth.CheckSignedHeaders(a, r.Header, false); err != nil {
			t.Error(err)
		}
		empty := sha256.Sum256(nil)
		if r.Header.Get("x-acs-content-sha256") != hex.EncodeToString(empty[:]) || r.Header.Get("x-acs-action") != "Act" || r.URL.Query().Get("Id") != "a b,c/d" {
			t.Errorf("headers %v query %q", r.Header, r.URL.RawQuery)
		}
		c := acsauth.V3CanonicalRequest(r.Method, r.URL.EscapedPath(), r.URL.Query(), r.Header, r.Host, a.SignedHeaders, r.Header.Get("x-acs-content-sha256"))
		if got := acsauth.V3Signature([]byte("secret"), acsauth.V3StringToSign(c)); got != a.Signature {
			t.Errorf("signature %s, server computes %s", a.Signature, got)
		}
		w.Write([]byte(`{"RequestId":"r1","Ok":true}`))
	}))
	defer srv.Close()
	c := &Client{Endpoint: srv.URL, AccessKeyID: "LTAIk", Secret: "secret", Version: "2020-06-30"}
	out, err := c.Call(context.Background(), "Act", map[string]string{"Id": "a b,c/d"})
	if err != nil || !strings.Contains(string(out), `"Ok":true`) {
		t.Fatalf("%s %v", out, err)
	}
}

func TestCall_V1SignatureVerifies(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		if _, ok := acsauth.V1Verify([]byte("secret"), r.Method, r.Form, r.Form.Get("Signature")); !ok || r.Form.Get("Action") != "Act" || r.Form.Get("Id") != "x+y" {
			t.Errorf("V1 request %v does not verify", r.Form)
		}
		w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	c := &Client{Endpoint: srv.URL, AccessKeyID: "LTAIk", Secret: "secret", Version: "2020-06-30", V1: true}
	if _, err := c.Call(context.Background(), "Act", map[string]string{"Id": "x+y"}); err != nil {
		t.Fatal(err)
	}
}

func TestCall_Errors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Header.Get("x-acs-action") {
		case "Alibaba":
			w.WriteHeader(http.StatusForbidden)
			w.Write([]byte(`{"RequestId":"r2","Code":"Forbidden.RAM","Message":"denied"}`))
		case "Plain":
			w.WriteHeader(http.StatusBadGateway)
			w.Write([]byte("upstream down"))
		default:
			w.Write([]byte("not json"))
		}
	}))
	defer srv.Close()
	c := &Client{Endpoint: srv.URL, AccessKeyID: "k", Secret: "s"}
	var ae *Error
	if _, err := c.Call(context.Background(), "Alibaba", nil); !errors.As(err, &ae) || ae.Code != "Forbidden.RAM" || ae.RequestID != "r2" || ae.Status != 403 {
		t.Errorf("Alibaba error: %v", err)
	}
	if _, err := c.Call(context.Background(), "Plain", nil); !errors.As(err, &ae) || ae.Status != 502 || ae.Message != "upstream down" {
		t.Errorf("plain error: %v", err)
	}
	if _, err := c.Call(context.Background(), "Other", nil); err == nil || !strings.Contains(err.Error(), "not JSON") {
		t.Errorf("non-JSON success: %v", err)
	}
	if _, err := (&Client{Endpoint: "ftp://x", AccessKeyID: "k", Secret: "s"}).Call(context.Background(), "A", nil); err == nil {
		t.Error("ftp endpoint accepted")
	}
	if _, err := (&Client{Endpoint: srv.URL}).Call(context.Background(), "A", nil); err == nil {
		t.Error("no key accepted")
	}
}
