package ocspclient

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
)

// The parts of RFC 6960 §4.2.1 needed to see every SingleResponse's
// CertID; x/crypto/ocsp matches answers by serial alone.
type certID struct {
	HashAlgorithm struct {
		Algorithm  asn1.ObjectIdentifier
		Parameters asn1.RawValue `asn1:"optional"`
	}
	NameHash      []byte
	IssuerKeyHash []byte
	SerialNumber  *big.Int
}

type singleResponse struct {
	CertID certID
	Rest   asn1.RawContent
}

type responseData struct {
	Raw         asn1.RawContent
	Version     int `asn1:"optional,explicit,default:0,tag:0"`
	ResponderID asn1.RawValue
	ProducedAt  asn1.RawValue
	Responses   []asn1.RawValue
	Extensions  asn1.RawValue `asn1:"optional,explicit,tag:1"`
}

var hashByOID = map[string]crypto.Hash{
	"1.3.14.3.2.26":          crypto.SHA1,
	"2.16.840.1.101.3.4.2.1": crypto.SHA256,
	"2.16.840.1.101.3.4.2.2": crypto.SHA384,
	"2.16.840.1.101.3.4.2.3": crypto.SHA512,
}

// checkCertIDs makes sure every SingleResponse about cert's serial names
// issuer (by name and key hash for its algorithm).
func checkCertIDs(der []byte, cert, issuer *x509.Certificate) error {
	var resp struct {
		Status asn1.Enumerated
		Bytes  struct {
			Type asn1.ObjectIdentifier
			Resp []byte
		} `asn1:"explicit,tag:0,optional"`
	}
	if _, err := asn1.Unmarshal(der, &resp); err != nil || resp.Status != 0 || resp.Bytes.Resp == nil {
		return nil // not a successful response: x/crypto reports it
	}
	var basic struct {
		TBS  responseData
		Rest asn1.RawContent
	}
	if _, err := asn1.Unmarshal(resp.Bytes.Resp, &basic); err != nil {
		return nil // x/crypto reports malformed responses
	}
	var spki struct {
		Algorithm asn1.RawValue
		Key       asn1.BitString
	}
	if _, err := asn1.Unmarshal(issuer.RawSubjectPublicKeyInfo, &spki); err != nil {
		return fmt.Errorf("ocspclient: issuer key: %w", err)
	}
	for _, raw := range basic.TBS.Responses {
		var s singleResponse
		if _, err := asn1.Unmarshal(raw.FullBytes, &s); err != nil {
			return fmt.Errorf("ocspclient: SingleResponse: %w", err)
		}
		if s.CertID.SerialNumber == nil || s.CertID.SerialNumber.Cmp(cert.SerialNumber) != 0 {
			continue
		}
		h, ok := hashByOID[s.CertID.HashAlgorithm.Algorithm.String()]
		if !ok {
			return errors.New("ocspclient: an answer about this serial uses an unknown hash")
		}
		name, key := h.New(), h.New()
		name.Write(issuer.RawSubject)
		key.Write(spki.Key.Bytes)
		if !bytes.Equal(name.Sum(nil), s.CertID.NameHash) || !bytes.Equal(key.Sum(nil), s.CertID.IssuerKeyHash) {
			return errors.New("ocspclient: the response answers for this serial under another issuer")
		}
	}
	return nil
}
