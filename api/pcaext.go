package api

import (
	"sort"
	"strings"

	"github.com/certstatus/certstatus/certs"
)

// pcaExtFields are the fields of a DescribePcaAndExternalCACertificateList
// item, with the zero value each has in its model type: a field the CA
// view lacks is still sent, as the SDKs expect.
var pcaExtFields = map[string]any{
	"AfterDate": int64(0), "Algorithm": "", "BeforeDate": int64(0), "CertificateType": "", "CommonName": "",
	"CountryCode": "", "Identifier": "", "KeySize": 0, "Locality": "", "Md5": "", "Organization": "",
	"OrganizationUnit": "", "ParentIdentifier": "", "Sans": "", "SerialNumber": "", "Sha2": "",
	"SignAlgorithm": "", "State": "", "Status": "", "SubjectDN": "", "X509Certificate": "", "Years": 0,
}

// describePcaExt answers DescribePcaAndExternalCACertificateList: the CAs
// (certstatus has no external CA instances), newest first, each as
// DescribeCACertificate shows it, cut to the model's fields. Identifiers
// narrows to the comma-separated identifiers; KeyWord is a case-insensitive
// substring of the common name, the subject or the alias.
func (s *Server) describePcaExt(c *call) (resp, *Error) {
	page, size, aerr := c.p.page(50)
	if aerr != nil {
		return nil, aerr
	}
	var only map[certs.Identifier]bool
	for _, v := range c.p.list("Identifiers") {
		id, err := certs.ParseIdentifier(v)
		if err != nil {
			return nil, errInvalid("Identifiers", "%q is not a CA identifier (32 hex characters)", v)
		}
		if only == nil {
			only = map[certs.Identifier]bool{}
		}
		only[id] = true
	}
	keyword := strings.ToLower(c.p.str("KeyWord"))
	all, err := s.cas.CAs(c.ctx)
	if err != nil {
		return nil, s.internal(c, "list CAs", err)
	}
	var match []certs.CA
	for _, ca := range all {
		if only != nil && !only[ca.Identifier] {
			continue
		}
		if keyword != "" {
			x, err := ca.Certificate()
			if err != nil || !strings.Contains(strings.ToLower(x.Subject.CommonName+"\n"+x.Subject.String()+"\n"+ca.Alias), keyword) {
				continue
			}
		}
		match = append(match, ca)
	}
	sort.SliceStable(match, func(i, j int) bool {
		if !match[i].CreatedAt.Equal(match[j].CreatedAt) {
			return match[i].CreatedAt.After(match[j].CreatedAt)
		}
		return match[i].Identifier < match[j].Identifier
	})
	list := []map[string]any{}
	for _, ca := range pageOf(match, page, size) {
		v, aerr := s.caView(c, ca)
		if aerr != nil {
			return nil, aerr
		}
		item := make(map[string]any, len(pcaExtFields))
		for k, zero := range pcaExtFields {
			item[k] = zero
			if x, ok := v[k]; ok && x != nil {
				item[k] = x
			}
		}
		list = append(list, item)
	}
	return resp{"CertificateList": list, "CurrentPage": page, "ShowSize": size,
		"TotalCount": len(match), "PageCount": pages(len(match), size)}, nil
}
