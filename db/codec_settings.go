package db

import (
	"time"

	"github.com/certstatus/certstatus/certs"
)

// Settings field tags. Never reuse or renumber one.
const (
	sOCSPURL = 1 + iota
	sCRLBaseURL
	sOCSPValidity          // nanoseconds
	sOCSPResponderValidity // nanoseconds
	sOCSPSignWithCA
	sOCSPResponderID
	sOCSPOmitCACert // written only when true: records from before it read as false
)

func encodeSettings(s certs.Settings) []byte {
	e := newEncoder()
	e.str(sOCSPURL, s.OCSPURL)
	e.str(sCRLBaseURL, s.CRLBaseURL)
	e.uint(sOCSPValidity, uint64(s.OCSPValidity))
	e.uint(sOCSPResponderValidity, uint64(s.OCSPResponderValidity))
	e.bool(sOCSPSignWithCA, s.OCSPSignWithCA)
	e.str(sOCSPResponderID, string(s.OCSPResponderID))
	if s.OCSPOmitCACert {
		e.bool(sOCSPOmitCACert, true)
	}
	return e.b
}

func decodeSettings(b []byte) (certs.Settings, error) {
	var s certs.Settings
	b, err := body(b)
	if err != nil {
		return s, err
	}
	err = walk(b, func(f field) error {
		switch f.tag {
		case sOCSPURL:
			s.OCSPURL = string(f.raw)
		case sCRLBaseURL:
			s.CRLBaseURL = string(f.raw)
		case sOCSPValidity:
			s.OCSPValidity = time.Duration(f.num)
		case sOCSPResponderValidity:
			s.OCSPResponderValidity = time.Duration(f.num)
		case sOCSPSignWithCA:
			s.OCSPSignWithCA = f.num != 0
		case sOCSPResponderID:
			s.OCSPResponderID = certs.ResponderIDForm(f.raw)
		case sOCSPOmitCACert:
			s.OCSPOmitCACert = f.num != 0
		}
		return nil
	})
	return s, err
}
