package ca

import (
	"github.com/cloudflare/cfssl/csr"

	"github.com/certstatus/certstatus/certs"
)

// cfsslRequest is the cfssl CSR request for subject s.
func cfsslRequest(s certs.Subject) *csr.CertificateRequest {
	return &csr.CertificateRequest{
		CN: s.CommonName,
		Names: []csr.Name{{
			C: s.Country, ST: s.State, L: s.Locality, O: s.Organization, OU: s.OrganizationalUnit,
		}},
	}
}
