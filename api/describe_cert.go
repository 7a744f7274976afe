package api

import (
	"errors"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/internal/pkcs8"
)

// loadCert finds the certificate named by the Identifier parameter. A
// deleted certificate is not found: deletion hides it from every
// description, while status queries keep answering for it.
func (s *Server) loadCert(c *call) (certs.Record, *Error) {
	id, aerr := c.p.identifier("Identifier")
	if aerr != nil {
		return certs.Record{}, aerr
	}
	r, err := s.records.Get(c.ctx, id)
	if errors.Is(err, certs.ErrNotFound) || (err == nil && r.Deleted) {
		return r, errCertNotFound(id)
	}
	if err != nil {
		return r, s.internal(c, "certificate lookup", err)
	}
	return r, nil
}

func (s *Server) describeCert(c *call) (resp, *Error) {
	r, aerr := s.loadCert(c)
	if aerr != nil {
		return nil, aerr
	}
	v := viewOf(r)
	chain, err := s.chains.Chain(c.ctx, r.Issuer)
	if err != nil {
		return nil, s.internal(c, "chain", err)
	}
	v.CertChain = chainPEM(chain)
	return resp{"Certificate": v}, nil
}

// stringDated is the view of the actions whose models carry string dates
// (DescribeClientCertificateForSerialNumber, ListRevokeCertificate).
func stringDated(v certView, r certs.Record) map[string]any {
	m := map[string]any{
		"Identifier": v.Identifier, "ParentIdentifier": v.ParentIdentifier, "SerialNumber": v.SerialNumber,
		"CertificateType": v.CertificateType, "Status": v.Status, "CommonName": v.CommonName,
		"CountryCode": v.CountryCode, "State": v.State, "Locality": v.Locality, "Organization": v.Organization,
		"OrganizationUnit": v.OrganizationUnit, "SubjectDN": v.SubjectDN, "Sans": v.Sans, "Algorithm": v.Algorithm,
		"KeySize": v.KeySize, "SignAlgorithm": v.SignAlgorithm, "Md5": v.Md5, "Sha2": v.Sha2,
		"BeforeDate": dayString(r.NotBefore), "AfterDate": dayString(r.NotAfter), "X509Certificate": v.X509Certificate,
		"CustomIdentifier": v.CustomIdentifier, "Years": years(r.NotBefore, r.NotAfter),
	}
	if r.State == certs.StateRevoked {
		m["RevokeDate"] = dayString(r.RevokedAt)
	}
	return m
}

func (s *Server) describeCertForSerial(c *call) (resp, *Error) {
	raw := c.p.list("SerialNumber")
	if len(raw) == 0 {
		return nil, errMissing("SerialNumber")
	}
	if len(raw) > s.opts.MaxIdentifiers {
		return nil, errInvalid("SerialNumber", "%d serial numbers, at most %d per request", len(raw), s.opts.MaxIdentifiers)
	}
	list := []map[string]any{}
	for _, v := range raw {
		serial, err := certs.ParseSerial(v)
		if err != nil {
			return nil, errInvalid("SerialNumber", "%q is not a hexadecimal serial number", v)
		}
		recs, err := s.records.BySerial(c.ctx, serial)
		if err != nil {
			return nil, s.internal(c, "lookup by serial", err)
		}
		for _, r := range recs {
			if !r.Deleted {
				list = append(list, stringDated(viewOf(r), r))
			}
		}
	}
	return resp{"CertificateList": list}, nil
}

// privateKey answers DescribeCertificatePrivateKey: the key the CA
// generated, as an encrypted PKCS#8 PEM under the caller's EncryptedCode.
func (s *Server) privateKey(c *call) (resp, *Error) {
	code, aerr := c.p.required("EncryptedCode")
	if aerr != nil {
		return nil, aerr
	}
	if n := utf8.RuneCountInString(code); n < 8 || n > 128 {
		return nil, errInvalid("EncryptedCode", "the password must be 8 to 128 characters")
	}
	r, aerr := s.loadCert(c)
	if aerr != nil {
		return nil, aerr
	}
	der, err := s.keys.PrivateKey(r)
	if errors.Is(err, certs.ErrNotFound) {
		return nil, newError(http.StatusBadRequest, "InvalidStatus.NoPrivateKey", "Certificate %s was issued from a CSR; its private key was never held by the CA.", r.Identifier)
	}
	if err != nil {
		return nil, s.internal(c, "private key", err)
	}
	enc, err := pkcs8.EncryptPEM(der, []byte(code))
	if err != nil {
		return nil, s.internal(c, "encrypt private key", err)
	}
	// The export is an audited event like a change: the key leaves only once
	// the event (who, which certificate, which request) is durable.
	if err := s.keyAudit.AuditKeyExport(c.ctx, r); err != nil {
		return nil, s.internal(c, "audit of the private-key export", err)
	}
	s.log.Info("private key exported", "request_id", c.requestID, "access_key", c.key.ID, "id", r.Identifier)
	return resp{"EncryptedData": string(enc)}, nil
}

// listPage lists the certificates matching f, page (1-based) of size, and
// the total.
func (s *Server) listPage(c *call, f certs.Filter, page, size int64) ([]certs.Record, int, *Error) {
	total, err := s.records.Count(c.ctx, f)
	if err != nil {
		return nil, 0, s.internal(c, "count", err)
	}
	f.Offset, f.Limit = int((page-1)*size), int(size)
	recs, _, err := s.records.List(c.ctx, f)
	if err != nil {
		return nil, 0, s.internal(c, "list", err)
	}
	return recs, total, nil
}

// cursorPaged reports whether the call pages by MaxResults/NextToken.
func cursorPaged(c *call) bool { return c.p.has("MaxResults") || c.p.has("NextToken") }

// listCursor lists the certificates matching f from NextToken (the
// identifier the previous page ended with) for MaxResults, and returns
// the next token, empty at the end.
func (s *Server) listCursor(c *call, f certs.Filter, defMax int64) ([]certs.Record, int64, string, *Error) {
	max, aerr := c.p.integer("MaxResults", defMax, 1, 1000)
	if aerr != nil {
		return nil, 0, "", aerr
	}
	if tok := c.p.str("NextToken"); tok != "" {
		id, err := certs.ParseIdentifier(tok)
		if err != nil {
			return nil, 0, "", errInvalid("NextToken", "%q does not continue a listing", tok)
		}
		f.After = id
	}
	f.Limit = int(max)
	recs, next, err := s.records.List(c.ctx, f)
	if errors.Is(err, certs.ErrNotFound) {
		return nil, 0, "", errInvalid("NextToken", "%q does not continue a listing", f.After)
	}
	if err != nil {
		return nil, 0, "", s.internal(c, "list", err)
	}
	return recs, max, string(next), nil
}

func (s *Server) listClientCertificate(c *call) (resp, *Error) {
	page, size, aerr := c.p.page(20)
	if aerr != nil {
		return nil, aerr
	}
	if c.p.has("Identifier") {
		r, aerr := s.loadCert(c)
		if aerr != nil {
			return nil, aerr
		}
		return resp{"CertificateList": []certView{viewOf(r)}, "CurrentPage": 1, "ShowSize": size, "MaxResults": size, "TotalCount": 1, "PageCount": 1}, nil
	}
	if cursorPaged(c) {
		return s.listCursorResp(c, certs.Filter{}, 20, func(r certs.Record) any { return viewOf(r) })
	}
	recs, total, aerr := s.listPage(c, certs.Filter{}, page, size)
	if aerr != nil {
		return nil, aerr
	}
	list := make([]certView, 0, len(recs))
	for _, r := range recs {
		list = append(list, viewOf(r))
	}
	return resp{"CertificateList": list, "CurrentPage": page, "ShowSize": size, "MaxResults": size, "TotalCount": total, "PageCount": pages(total, size)}, nil
}

// listCursorResp answers a CertificateList action paged by NextToken (an
// extension of ListClientCertificate and ListRevokeCertificate, which
// Alibaba pages by CurrentPage alone).
func (s *Server) listCursorResp(c *call, f certs.Filter, defMax int64, view func(certs.Record) any) (resp, *Error) {
	total, err := s.records.Count(c.ctx, f)
	if err != nil {
		return nil, s.internal(c, "count", err)
	}
	recs, max, next, aerr := s.listCursor(c, f, defMax)
	if aerr != nil {
		return nil, aerr
	}
	list := make([]any, 0, len(recs))
	for _, r := range recs {
		list = append(list, view(r))
	}
	out := resp{"CertificateList": list, "MaxResults": max, "TotalCount": total}
	if next != "" {
		out["NextToken"] = next
	}
	return out, nil
}

// listCert answers ListCert, paged by MaxResults/NextToken (the identifier
// to continue after) or CurrentPage/ShowSize.
func (s *Server) listCert(c *call) (resp, *Error) {
	f := certs.Filter{}
	switch t := strings.ToUpper(c.p.str("Type")); t {
	case "", "END_ENTITY":
	case "CLIENT":
		f.Kind = certs.KindClient
	case "SERVER":
		f.Kind = certs.KindServer
	default:
		return nil, errInvalid("Type", "%q: want CLIENT, SERVER or END_ENTITY", t)
	}
	if st := c.p.str("Status"); st != "" {
		var err error
		if f.State, err = certs.ParseState(st); err != nil {
			return nil, errInvalid("Status", "%q: want ISSUE or REVOKE", st)
		}
	}
	if c.p.has("ParentIdentifier") {
		var aerr *Error
		if f.Issuer, aerr = c.p.identifier("ParentIdentifier"); aerr != nil {
			return nil, aerr
		}
	}
	for _, unsupported := range []string{"InstanceUuid", "AfterDate", "BeforeDate"} {
		if c.p.has(unsupported) {
			return nil, errInvalid(unsupported, "filtering by %s is not supported", unsupported)
		}
	}
	item := func(r certs.Record) map[string]any {
		v := viewOf(r)
		tags := make([]string, 0, len(r.Tags))
		for _, t := range r.Tags {
			tags = append(tags, t.Key+":"+t.Value)
		}
		return map[string]any{
			"Id": v.Id, "Extra": "{}",
			"Identifier": v.Identifier, "SerialNumber": v.SerialNumber, "CertificateType": listCertType(r.Kind),
			"Status": v.Status, "CommonName": v.CommonName, "Organization": v.Organization,
			"OrganizationUnit": v.OrganizationUnit, "SubjectDn": v.SubjectDN, "Algorithm": v.Algorithm,
			"AliasName": v.AliasName, "CustomIdentifier": v.CustomIdentifier, "KeyExportable": len(r.SealedKey) > 0,
			"BeforeTime": v.BeforeDate, "AfterTime": v.AfterDate, "BeforeDate": listDate(r.NotBefore),
			"AfterDate": listDate(r.NotAfter), "Tags": tags,
		}
	}
	total, err := s.records.Count(c.ctx, f)
	if err != nil {
		return nil, s.internal(c, "count", err)
	}
	if cursorPaged(c) {
		recs, max, next, aerr := s.listCursor(c, f, 50)
		if aerr != nil {
			return nil, aerr
		}
		list := make([]map[string]any, 0, len(recs))
		for _, r := range recs {
			list = append(list, item(r))
		}
		out := resp{"List": list, "MaxResults": max, "TotalCount": total}
		if next != "" {
			out["NextToken"] = string(next)
		}
		return out, nil
	}
	page, size, aerr := c.p.page(50)
	if aerr != nil {
		return nil, aerr
	}
	recs, _, aerr := s.listPage(c, f, page, size)
	if aerr != nil {
		return nil, aerr
	}
	list := make([]map[string]any, 0, len(recs))
	for _, r := range recs {
		list = append(list, item(r))
	}
	return resp{"List": list, "CurrentPage": page, "ShowSize": size, "MaxResults": size, "TotalCount": total, "PageCount": pages(total, size)}, nil
}

func (s *Server) listRevoked(c *call) (resp, *Error) {
	page, size, aerr := c.p.page(20)
	if aerr != nil {
		return nil, aerr
	}
	if cursorPaged(c) {
		return s.listCursorResp(c, certs.Filter{State: certs.StateRevoked}, 20, func(r certs.Record) any { return stringDated(viewOf(r), r) })
	}
	recs, total, aerr := s.listPage(c, certs.Filter{State: certs.StateRevoked}, page, size)
	if aerr != nil {
		return nil, aerr
	}
	list := make([]map[string]any, 0, len(recs))
	for _, r := range recs {
		list = append(list, stringDated(viewOf(r), r))
	}
	return resp{"CertificateList": list, "CurrentPage": page, "ShowSize": size, "TotalCount": total, "PageCount": pages(total, size)}, nil
}
