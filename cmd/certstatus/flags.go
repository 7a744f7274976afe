package main

import (
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/certstatus/certstatus/certs"
)

// subjectFlags binds the distinguished-name flags.
func subjectFlags(fs *flag.FlagSet) *certs.Subject {
	s := &certs.Subject{}
	fs.StringVar(&s.CommonName, "cn", "", "subject common name (CN)")
	fs.StringVar(&s.Country, "c", "", "subject country, two letters (C); a root CA without one gets XX, a sub CA its parent's")
	fs.StringVar(&s.State, "st", "", "subject state or province (ST)")
	fs.StringVar(&s.Locality, "l", "", "subject locality (L)")
	fs.StringVar(&s.Organization, "o", "", "subject organization (O)")
	fs.StringVar(&s.OrganizationalUnit, "ou", "", "subject organizational unit (OU)")
	return s
}

type validityFlags struct {
	days                int
	notBefore, notAfter string
}

func bindValidity(fs *flag.FlagSet, defDays int) *validityFlags {
	v := &validityFlags{}
	fs.IntVar(&v.days, "days", 0, fmt.Sprintf("validity in days from now (default %d unless --not-before/--not-after)", defDays))
	fs.StringVar(&v.notBefore, "not-before", "", "explicit start of validity, RFC 3339 (with --not-after)")
	fs.StringVar(&v.notAfter, "not-after", "", "explicit end of validity, RFC 3339 (with --not-before)")
	return v
}

func (v *validityFlags) resolve(defDays int) (certs.Validity, error) {
	out := certs.Validity{Days: v.days}
	var err error
	if v.notBefore != "" {
		if out.NotBefore, err = time.Parse(time.RFC3339, v.notBefore); err != nil {
			return out, usageErr("--not-before %q: want RFC 3339 such as 2027-01-02T15:04:05Z", v.notBefore)
		}
	}
	if v.notAfter != "" {
		if out.NotAfter, err = time.Parse(time.RFC3339, v.notAfter); err != nil {
			return out, usageErr("--not-after %q: want RFC 3339 such as 2028-01-02T15:04:05Z", v.notAfter)
		}
	}
	if out.Days == 0 && out.NotBefore.IsZero() && out.NotAfter.IsZero() {
		out.Days = defDays
	}
	return out, nil
}

// multiFlag collects a repeatable flag; commas also separate values.
type multiFlag []string

func (m *multiFlag) String() string { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error {
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			*m = append(*m, p)
		}
	}
	return nil
}

// parseAlgorithm maps an empty flag to the default.
func parseAlgorithm(s string, def certs.Algorithm) (certs.Algorithm, error) {
	if s == "" {
		return def, nil
	}
	return certs.ParseAlgorithm(s)
}

func parseTags(kvs []string) ([]certs.Tag, error) {
	var out []certs.Tag
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, usageErr("--tag %q: want KEY=VALUE", kv)
		}
		out = append(out, certs.Tag{Key: k, Value: v})
	}
	return out, nil
}
