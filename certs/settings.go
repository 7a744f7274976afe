package certs

import (
	"fmt"
	"net/url"
	"strconv"
	"time"
)

// Settings are the choices of one data directory that every issuance and
// every OCSP signer must agree on, whichever process makes them (serve,
// the API, the CLI, an import): the URLs issued certificates carry, and the
// form of the OCSP answers stored for them. They live in the store, not in
// flags, so that a certificate issued by the CLI points where one issued
// by the API does.
type Settings struct {
	// OCSPURL is the responder URL put in the AIA extension of issued
	// certificates (field ocsp_url).
	OCSPURL string
	// CRLBaseURL prefixes the CRL distribution point and the caIssuers
	// URL of issued certificates: <CRLBaseURL>/crl/<ca>.crl and
	// <CRLBaseURL>/ca/<ca>.crt (field crl_base_url).
	CRLBaseURL string
	// OCSPValidity is nextUpdate − thisUpdate of OCSP answers,
	// MinOCSPValidity..MaxOCSPValidity (field ocsp_validity).
	OCSPValidity time.Duration
	// OCSPResponderValidity is the validity of delegated OCSP responder
	// certificates, at least twice OCSPValidity so that no answer outlives
	// its signer (field ocsp_responder_validity).
	OCSPResponderValidity time.Duration
	// OCSPSignWithCA signs OCSP answers with the CA's own key instead of a
	// delegated responder (field ocsp_sign_with_ca).
	OCSPSignWithCA bool
	// OCSPResponderID is the form of the ResponderID in OCSP answers
	// (RFC 6960 §4.2.1; field ocsp_responder_id).
	OCSPResponderID ResponderIDForm
	// OCSPOmitCACert leaves the CA's own certificate out of the answers it
	// signs with OCSPSignWithCA (field ocsp_omit_ca_cert). By default it
	// is included, as Apache's SSLOCSPEnable needs; golang.org/x/crypto/ocsp
	// refuses a sub CA's answers that include it (golang/go#59641), so a
	// fleet of such clients wants it left out. No effect with delegated
	// responders, whose certificate is always included.
	OCSPOmitCACert bool
}

// ResponderIDForm is how an OCSP answer names its signer.
type ResponderIDForm string

// The ResponderID forms of RFC 6960 §4.2.1.
const (
	ResponderIDByKey  ResponderIDForm = "byKey"  // SHA-1 of the signer's public key
	ResponderIDByName ResponderIDForm = "byName" // the signer's subject name
)

// The bounds of Settings.OCSPValidity: answers valid for less than 8
// hours or more than 7 days break the CA/Browser Forum Baseline
// Requirements and the Microsoft root program.
const (
	MinOCSPValidity = 8 * time.Hour
	MaxOCSPValidity = 7 * 24 * time.Hour
)

// The settings' field names, as settings show prints them and as errors
// name them.
const (
	FieldOCSPURL               = "ocsp_url"
	FieldCRLBaseURL            = "crl_base_url"
	FieldOCSPValidity          = "ocsp_validity"
	FieldOCSPResponderValidity = "ocsp_responder_validity"
	FieldOCSPSignWithCA        = "ocsp_sign_with_ca"
	FieldOCSPResponderID       = "ocsp_responder_id"
	FieldOCSPOmitCACert        = "ocsp_omit_ca_cert"
)

// DefaultSettings are the settings of a data directory whose operator
// chose only where relying parties reach it: answers valid 24 hours,
// signed by delegated responders valid 30 days, named by key. An empty
// crlBaseURL means ocspURL.
func DefaultSettings(ocspURL, crlBaseURL string) Settings {
	if crlBaseURL == "" {
		crlBaseURL = ocspURL
	}
	return Settings{
		OCSPURL:               ocspURL,
		CRLBaseURL:            crlBaseURL,
		OCSPValidity:          24 * time.Hour,
		OCSPResponderValidity: 720 * time.Hour,
		OCSPResponderID:       ResponderIDByKey,
	}
}

// SettingError is the error Settings.Validate returns for a value that
// does not fit; it wraps ErrInvalid.
type SettingError struct {
	Field string // the field's name, FieldOCSPURL…
	Value string // the value refused, as text
	Msg   string // what is wanted
}

func (e *SettingError) Error() string {
	return fmt.Sprintf("certs: setting %s %q: %s", e.Field, e.Value, e.Msg)
}

// Unwrap returns ErrInvalid.
func (e *SettingError) Unwrap() error { return ErrInvalid }

// Validate checks every field and returns a *SettingError naming the first
// that does not fit.
func (s Settings) Validate() error {
	for _, u := range []struct{ field, v string }{{FieldOCSPURL, s.OCSPURL}, {FieldCRLBaseURL, s.CRLBaseURL}} {
		if msg := checkURL(u.v); msg != "" {
			return &SettingError{Field: u.field, Value: u.v, Msg: msg}
		}
	}
	if s.OCSPValidity < MinOCSPValidity || s.OCSPValidity > MaxOCSPValidity {
		return &SettingError{Field: FieldOCSPValidity, Value: FormatDuration(s.OCSPValidity),
			Msg: fmt.Sprintf("want a duration from %s to %s (CA/B Baseline Requirements, Microsoft root program)", FormatDuration(MinOCSPValidity), FormatDuration(MaxOCSPValidity))}
	}
	if s.OCSPResponderValidity < 2*s.OCSPValidity {
		return &SettingError{Field: FieldOCSPResponderValidity, Value: FormatDuration(s.OCSPResponderValidity),
			Msg: fmt.Sprintf("want at least twice %s (%s), so that no answer outlives its signer", FieldOCSPValidity, FormatDuration(2*s.OCSPValidity))}
	}
	if s.OCSPResponderID != ResponderIDByKey && s.OCSPResponderID != ResponderIDByName {
		return &SettingError{Field: FieldOCSPResponderID, Value: string(s.OCSPResponderID), Msg: "want byKey or byName"}
	}
	return nil
}

// checkURL says what is wrong with u as a URL put into certificates, or "".
func checkURL(u string) string {
	p, err := url.Parse(u)
	switch {
	case u == "":
		return "want an http or https URL, not nothing"
	case err != nil:
		return "not a URL: " + err.Error()
	case p.Scheme != "http" && p.Scheme != "https":
		return "want an http or https URL"
	case p.Host == "":
		return "the URL names no host"
	case p.User != nil || p.RawQuery != "" || p.Fragment != "" || p.Opaque != "":
		return "want a URL without user, query or fragment"
	}
	return ""
}

// Fields returns the settings as name → value text, in the form settings
// show prints and the audit trail records.
func (s Settings) Fields() []SettingField {
	return []SettingField{
		{FieldOCSPURL, s.OCSPURL},
		{FieldCRLBaseURL, s.CRLBaseURL},
		{FieldOCSPValidity, FormatDuration(s.OCSPValidity)},
		{FieldOCSPResponderValidity, FormatDuration(s.OCSPResponderValidity)},
		{FieldOCSPSignWithCA, strconv.FormatBool(s.OCSPSignWithCA)},
		{FieldOCSPResponderID, string(s.OCSPResponderID)},
		{FieldOCSPOmitCACert, strconv.FormatBool(s.OCSPOmitCACert)},
	}
}

// SettingField is one setting's name and value as text.
type SettingField struct{ Name, Value string }

// Changes lists the fields whose values differ from s to t, as
// `name "old"→"new"`, in Fields order.
func (s Settings) Changes(t Settings) []string {
	var out []string
	from, to := s.Fields(), t.Fields()
	for i := range from {
		if from[i].Value != to[i].Value {
			out = append(out, fmt.Sprintf("%s %q→%q", from[i].Name, from[i].Value, to[i].Value))
		}
	}
	return out
}

// FormatDuration writes d as time.Duration.String does without the zero
// units it appends: "24h", "1h30m", "720h".
func FormatDuration(d time.Duration) string {
	s := d.String()
	for _, z := range []string{"0s", "0m"} {
		if len(s) > len(z)+1 && s[len(s)-len(z):] == z && (s[len(s)-len(z)-1] < '0' || s[len(s)-len(z)-1] > '9') {
			s = s[:len(s)-len(z)]
		}
	}
	return s
}
