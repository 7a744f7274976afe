package api

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/certstatus/certstatus/certs"
)

// caStatus is the CaStatus filter vocabulary: issue, forbidden, revoke.
func caStatus(c certs.CA) string {
	switch {
	case c.State == certs.StateRevoked:
		return "revoke"
	case c.Disabled:
		return "forbidden"
	}
	return "issue"
}

// caView is a CA as DescribeCACertificate and DescribeCACertificateList
// show it.
func (s *Server) caView(c *call, ca certs.CA) (map[string]any, *Error) {
	v := viewOf(ca.AsRecord())
	n, err := s.records.Count(c.ctx, certs.Filter{Issuer: ca.Identifier, IncludeDeleted: true})
	if err != nil {
		return nil, s.internal(c, "count", err)
	}
	chain, err := s.chains.Chain(c.ctx, ca.Identifier)
	if err != nil {
		return nil, s.internal(c, "chain", err)
	}
	years := years(ca.NotBefore, ca.NotAfter)
	total, remaining := quota(n)
	crlStatus := "ACTIVE"
	if s.crlURL(ca.Identifier) == "" {
		crlStatus = "INACTIVE"
	}
	m := map[string]any{
		"Identifier": v.Identifier, "ParentIdentifier": v.ParentIdentifier, "SerialNumber": v.SerialNumber,
		"CertificateType": v.CertificateType, "Status": v.Status, "CaStatus": caStatus(ca),
		"CommonName": v.CommonName, "CountryCode": v.CountryCode, "State": v.State, "Locality": v.Locality,
		"Organization": v.Organization, "OrganizationUnit": v.OrganizationUnit, "SubjectDN": v.SubjectDN,
		"Algorithm": v.Algorithm, "FullAlgorithm": v.FullAlgorithm, "KeySize": v.KeySize, "SignAlgorithm": v.SignAlgorithm,
		"BeforeDate": v.BeforeDate, "AfterDate": v.AfterDate, "Years": years,
		"Md5": v.Md5, "Sha2": v.Sha2, "X509Certificate": v.X509Certificate, "CaCertChain": chainPEM(chain),
		"CertIssuedCount": n, "IssuerType": "local", "Alias": ca.Alias, "ResourceGroupId": ca.ResourceGroupID,
		"CrlStatus": crlStatus, "CrlUrl": s.crlURL(ca.Identifier), "CrlDay": s.crlDay(),
		"CertTotalCount": total, "CertRemainingCount": remaining, "CertMaxTime": certMaxTime(ca, c.now),
		// Deprecated for CAs (Sans), HSM placement (KeyIndex, ClusterId) and
		// Alibaba billing (Gift, Trial): nothing to report, sent as zero
		// values because Alibaba always sends them.
		"Sans": "", "KeyIndex": 0, "ClusterId": "", "Gift": 0, "Trial": 0,
	}
	if ca.Kind == certs.KindRootCA {
		m["ParentIdentifier"] = ""
	}
	tags := make([]tagView, 0, len(ca.Tags))
	for _, t := range ca.Tags {
		tags = append(tags, tagView{TagKey: t.Key, TagValue: t.Value})
	}
	m["Tags"] = tags
	return m, nil
}

func (s *Server) crlURL(id certs.Identifier) string {
	if s.opts.CRLBaseURL == "" {
		return ""
	}
	return strings.TrimSuffix(s.opts.CRLBaseURL, "/") + "/crl/" + string(id) + ".crl"
}

// loadCA finds the CA named by param.
func (s *Server) loadCA(c *call, param string) (certs.CA, *Error) {
	id, aerr := c.p.identifier(param)
	if aerr != nil {
		return certs.CA{}, aerr
	}
	ca, err := s.cas.CA(c.ctx, id)
	if errors.Is(err, certs.ErrNotFound) {
		return ca, errCANotFound(id)
	}
	if err != nil {
		return ca, s.internal(c, "CA lookup", err)
	}
	return ca, nil
}

func (s *Server) describeCA(c *call) (resp, *Error) {
	ca, aerr := s.loadCA(c, "Identifier")
	if aerr != nil {
		return nil, aerr
	}
	v, aerr := s.caView(c, ca)
	if aerr != nil {
		return nil, aerr
	}
	return resp{"Certificate": v, "Years": v["Years"]}, nil
}

func (s *Server) describeCAList(c *call) (resp, *Error) {
	page, size, aerr := c.p.page(20)
	if aerr != nil {
		return nil, aerr
	}
	status, typ, valid := strings.ToLower(c.p.str("CaStatus")), c.p.str("CertType"), c.p.str("ValidStatus")
	if status != "" && status != "issue" && status != "forbidden" && status != "revoke" {
		return nil, errInvalid("CaStatus", "%q: want issue, forbidden or revoke", status)
	}
	kinds := map[string]certs.Kind{"": certs.KindUnknown, "root": certs.KindRootCA, "subroot": certs.KindSubCA}
	kind, ok := kinds[strings.ToLower(typ)]
	if !ok {
		return nil, errInvalid("CertType", "%q: want root or subRoot", typ)
	}
	if valid != "" && valid != "valid" && valid != "notValid" {
		return nil, errInvalid("ValidStatus", "%q: want valid or notValid", valid)
	}
	if it := c.p.str("IssuerType"); it != "" && it != "local" {
		return nil, errInvalid("IssuerType", "%q: certstatus CAs are all local", it)
	}
	var only certs.Identifier
	if c.p.has("Identifier") {
		if only, aerr = c.p.identifier("Identifier"); aerr != nil {
			return nil, aerr
		}
	}
	all, err := s.cas.CAs(c.ctx)
	if err != nil {
		return nil, s.internal(c, "list CAs", err)
	}
	newestFirst(all)
	var match []certs.CA
	for _, ca := range all {
		isValid := ca.State == certs.StateIssued && !c.now.Before(ca.NotBefore) && c.now.Before(ca.NotAfter)
		if (status == "" || caStatus(ca) == status) && (kind == certs.KindUnknown || ca.Kind == kind) &&
			(valid == "" || (valid == "valid") == isValid) && (only == "" || ca.Identifier == only) {
			match = append(match, ca)
		}
	}
	list := []map[string]any{}
	for _, ca := range pageOf(match, page, size) {
		v, aerr := s.caView(c, ca)
		if aerr != nil {
			return nil, aerr
		}
		list = append(list, v)
	}
	return resp{"CertificateList": list, "CurrentPage": page, "ShowSize": size,
		"TotalCount": len(match), "PageCount": pages(len(match), size)}, nil
}

func (s *Server) describeCACount(c *call) (resp, *Error) {
	all, err := s.cas.CAs(c.ctx)
	if err != nil {
		return nil, s.internal(c, "list CAs", err)
	}
	return resp{"TotalCount": len(all)}, nil
}

// listPcaCA pages CAs with MaxResults/NextToken (the next CA identifier).
func (s *Server) listPcaCA(c *call) (resp, *Error) {
	max, aerr := c.p.integer("MaxResults", 50, 1, 2000)
	if aerr != nil {
		return nil, aerr
	}
	all, err := s.cas.CAs(c.ctx)
	if err != nil {
		return nil, s.internal(c, "list CAs", err)
	}
	newestFirst(all)
	start := 0
	if tok := c.p.str("NextToken"); tok != "" {
		start = slices.IndexFunc(all, func(ca certs.CA) bool { return string(ca.Identifier) == tok })
		if start < 0 {
			return nil, errInvalid("NextToken", "%q does not continue a listing", tok)
		}
	}
	owners := accountIDs(all)
	end := min(start+int(max), len(all))
	list := []map[string]any{}
	for _, ca := range all[start:end] {
		x, _ := ca.Certificate()
		cn := ""
		if x != nil {
			cn = x.Subject.CommonName
		}
		list = append(list, map[string]any{
			"CertIdentifier": string(ca.Identifier), "CommonName": cn, "IssuerIdentifier": string(ca.Parent),
			"PrivateCaInstanceId": string(ca.Identifier), "PrivateCaRegionId": regionID, "Status": ca.State.String(),
			"UserId": owners[ca.Identifier],
		})
	}
	r := resp{"List": list, "MaxResults": max, "TotalCount": len(all)}
	if end < len(all) {
		r["NextToken"] = string(all[end].Identifier)
	}
	return r, nil
}

// caInstanceStatus answers GetCAInstanceStatus: certstatus CAs are their
// own instances, always in use (USED) unless revoked.
func (s *Server) caInstanceStatus(c *call) (resp, *Error) {
	param := "Identifier"
	if !c.p.has(param) {
		param = "InstanceId"
	}
	ca, aerr := s.loadCA(c, param)
	if aerr != nil {
		return nil, aerr
	}
	n, err := s.records.Count(c.ctx, certs.Filter{Issuer: ca.Identifier, IncludeDeleted: true})
	if err != nil {
		return nil, s.internal(c, "count", err)
	}
	status := "USED"
	if ca.State == certs.StateRevoked {
		status = "REVOKE"
	}
	total, _ := quota(n)
	return resp{"InstanceStatusList": []map[string]any{{
		"Identifier": string(ca.Identifier), "InstanceId": string(ca.Identifier), "Status": status,
		"Type": ca.Kind.String(), "BeforeTime": epochMillis(ca.NotBefore), "AfterTime": epochMillis(ca.NotAfter),
		"UseExpireTime": epochMillis(ca.NotAfter), "CertIssuedCount": n, "CertTotalCount": total,
	}}}, nil
}

// crlAddress answers GetCaInstanceCrlAddress. HashCode changes whenever a
// certificate of the CA is revoked: it hashes the CA's revoked serials.
func (s *Server) crlAddress(c *call) (resp, *Error) {
	ca, aerr := s.loadCA(c, "CaIdentifier")
	if aerr != nil {
		return nil, aerr
	}
	revoked, _, err := s.records.List(c.ctx, certs.Filter{Issuer: ca.Identifier, State: certs.StateRevoked, IncludeDeleted: true})
	if err != nil {
		return nil, s.internal(c, "list revoked", err)
	}
	h := sha256.New()
	for _, r := range revoked {
		h.Write([]byte(r.Serial))
		h.Write([]byte{0})
	}
	next := ""
	crl, err := s.crls.CRL(c.ctx, ca.Identifier)
	switch {
	case errors.Is(err, certs.ErrNotFound):
	case err != nil:
		return nil, s.internal(c, "CRL lookup", err)
	case len(crl.DER) > 0:
		next = strconv.FormatInt(crl.NextUpdate.UnixMilli(), 10)
	}
	return resp{"CrlUrl": s.crlURL(ca.Identifier), "CaInstanceStatus": caInstanceStatus(ca), "CaType": ca.Kind.String(),
		"HashCode": hex.EncodeToString(h.Sum(nil)), "NextUpdateTime": next}, nil
}

// pageOf returns page (1-based) of size from all.
func pageOf[T any](all []T, page, size int64) []T {
	start := (page - 1) * size
	if start >= int64(len(all)) {
		return nil
	}
	return all[start:min(start+size, int64(len(all)))]
}

func pages(total int, size int64) int64 { return (int64(total) + size - 1) / size }

// newestFirst orders CAs as Alibaba lists them, newest first; the
// identifier breaks ties, so pages are stable.
func newestFirst(cas []certs.CA) {
	slices.SortFunc(cas, func(a, b certs.CA) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(string(a.Identifier), string(b.Identifier))
	})
}

// regionID is ListPcaCaCertificate's PrivateCaRegionId: cn-hangzhou, the
// region of cas.aliyuncs.com, where Alibaba's generated client sends every
// region's calls.
const regionID = "cn-hangzhou"

// accountIDs are ListPcaCaCertificate's UserId of each CA: certstatus has
// no accounts, so a CA hierarchy stands for one, and its number is the
// numericID of the hierarchy's root CA, in decimal. It never changes and
// does not depend on who asks.
func accountIDs(cas []certs.CA) map[certs.Identifier]string {
	parent := make(map[certs.Identifier]certs.Identifier, len(cas))
	for _, ca := range cas {
		parent[ca.Identifier] = ca.Parent
	}
	out := make(map[certs.Identifier]string, len(cas))
	for _, ca := range cas {
		root := ca.Identifier
		for range len(cas) { // bounded: a corrupt cycle cannot loop forever
			p, ok := parent[root]
			if !ok || p == "" {
				break
			}
			root = p
		}
		out[ca.Identifier] = strconv.FormatInt(numericID(root), 10)
	}
	return out
}

// crlDay is CrlDay: the CRL validity in whole days, rounded up.
func (s *Server) crlDay() int {
	return int((s.opts.CRLValidity + 24*time.Hour - 1) / (24 * time.Hour))
}

// certMaxTime is CertMaxTime: the longest validity, in whole days, a
// certificate the CA issues now can have, since none outlives its CA.
func certMaxTime(ca certs.CA, now time.Time) int {
	if !now.Before(ca.NotAfter) {
		return 0
	}
	days := int(ca.NotAfter.Sub(now) / (24 * time.Hour))
	if ca.CertMaxDays > 0 && ca.CertMaxDays < days {
		return ca.CertMaxDays // the sub CA's own cap (CreateSubCACertificate CertMaxTime)
	}
	return days
}
