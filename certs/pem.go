package certs

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
)

// EncodeCertPEM returns der as one PEM "CERTIFICATE" block.
func EncodeCertPEM(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// ParseCertsPEM parses every CERTIFICATE block in data. It fails if data
// holds no certificate or a block that does not parse.
func ParseCertsPEM(data []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certs: certificate %d: %w", len(out)+1, err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w PEM: no CERTIFICATE block", ErrInvalid)
	}
	return out, nil
}
