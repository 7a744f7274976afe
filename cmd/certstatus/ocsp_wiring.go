package main

import (
	"github.com/certstatus/certstatus/ca"
	"github.com/certstatus/certstatus/internal/ocspsign"
	"github.com/certstatus/certstatus/responder"
)

// caOCSPOptions are the CA's OCSP signing settings from a resolved Config
// (checked there) whose signer fields hold the stored settings (open puts
// them there), so that offline commands sign as serve does.
func caOCSPOptions(c *Config, m *ca.OCSPMetrics) *ca.OCSPOptions {
	return &ca.OCSPOptions{
		Policy:            ocspsign.Policy{Validity: c.OCSPValidity, RefreshAfter: c.OCSPRefreshAfter, ByName: c.OCSPResponderID == "byName", OmitCACert: c.OCSPOmitCACert},
		ResponderValidity: c.OCSPResponderValidity,
		SignWithCA:        c.OCSPSignWithCA,
		RefreshShare:      c.OCSPRefreshShare,
		Metrics:           m,
	}
}

// responderOptions are the responder's settings from a resolved Config.
func responderOptions(c *Config) *responder.Options {
	return &responder.Options{
		UnknownAsRevoked: c.OCSPUnknown == "revoked",
		MaxLiveSigning:   c.OCSPMaxLive,
		PathPrefix:       c.OCSPPathPrefix,
	}
}
