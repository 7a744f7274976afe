package certs_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/certstatus/certstatus/certs"
)

func TestSettings_Validate(t *testing.T) {
	good := certs.DefaultSettings("https://ocsp.example.com/ocsp", "")
	if err := good.Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	if good.CRLBaseURL != good.OCSPURL {
		t.Errorf("CRLBaseURL = %q, want the OCSP URL", good.CRLBaseURL)
	}
	cases := []struct {
		name, field string
		edit        func(*certs.Settings)
	}{
		{"error/empty OCSP URL", certs.FieldOCSPURL, func(s *certs.Settings) { s.OCSPURL = "" }},
		{"error/ftp OCSP URL", certs.FieldOCSPURL, func(s *certs.Settings) { s.OCSPURL = "ftp://h/" }},
		{"error/relative OCSP URL", certs.FieldOCSPURL, func(s *certs.Settings) { s.OCSPURL = "/ocsp" }},
		{"error/OCSP URL with query", certs.FieldOCSPURL, func(s *certs.Settings) { s.OCSPURL = "http://h/?a=b" }},
		{"error/CRL URL without host", certs.FieldCRLBaseURL, func(s *certs.Settings) { s.CRLBaseURL = "http:///x" }},
		{"error/validity too short", certs.FieldOCSPValidity, func(s *certs.Settings) { s.OCSPValidity = 7 * time.Hour }},
		{"error/validity too long", certs.FieldOCSPValidity, func(s *certs.Settings) { s.OCSPValidity = 169 * time.Hour }},
		{"error/responder outlived", certs.FieldOCSPResponderValidity, func(s *certs.Settings) { s.OCSPResponderValidity = 47 * time.Hour }},
		{"error/responder id", certs.FieldOCSPResponderID, func(s *certs.Settings) { s.OCSPResponderID = "bykey" }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := good
			tc.edit(&s)
			err := s.Validate()
			var se *certs.SettingError
			if !errors.As(err, &se) || se.Field != tc.field || !errors.Is(err, certs.ErrInvalid) {
				t.Fatalf("Validate = %v, want a SettingError for %s wrapping ErrInvalid", err, tc.field)
			}
			if !strings.Contains(err.Error(), tc.field) {
				t.Errorf("%q does not name %s", err, tc.field)
			}
		})
	}
	for _, ok := range []func(*certs.Settings){
		func(s *certs.Settings) {
			s.OCSPValidity, s.OCSPResponderValidity = certs.MinOCSPValidity, 2*certs.MinOCSPValidity
		},
		func(s *certs.Settings) {
			s.OCSPValidity, s.OCSPResponderValidity = certs.MaxOCSPValidity, 2*certs.MaxOCSPValidity
		},
		func(s *certs.Settings) { s.OCSPResponderID, s.OCSPSignWithCA = certs.ResponderIDByName, true },
		func(s *certs.Settings) { s.CRLBaseURL = "http://10.0.0.1:8080/pki/" },
	} {
		s := good
		ok(&s)
		if err := s.Validate(); err != nil {
			t.Errorf("%+v: %v", s, err)
		}
	}
}

func TestSettings_Changes(t *testing.T) {
	a := certs.DefaultSettings("http://a/", "")
	if c := a.Changes(a); len(c) != 0 {
		t.Errorf("no change: %q", c)
	}
	b := a
	b.OCSPURL, b.OCSPSignWithCA = "http://b/", true
	want := []string{`ocsp_url "http://a/"→"http://b/"`, `ocsp_sign_with_ca "false"→"true"`}
	if got := a.Changes(b); strings.Join(got, ";") != strings.Join(want, ";") {
		t.Errorf("Changes = %q, want %q", got, want)
	}
}

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		24 * time.Hour: "24h", 720 * time.Hour: "720h", 90 * time.Minute: "1h30m", time.Minute: "1m",
		time.Hour + 10*time.Second: "1h0m10s", 10 * time.Second: "10s", 0: "0s", 30 * time.Minute: "30m",
	} {
		if got := certs.FormatDuration(d); got != want {
			t.Errorf("FormatDuration(%v) = %q, want %q", d, got, want)
		}
		if back, err := time.ParseDuration(want); err != nil || back != d {
			t.Errorf("%q parses as %v, %v", want, back, err)
		}
	}
}
