package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/certstatus/certstatus/ca"
)

// Config is the configuration of one certstatus process. Every field can be
// set, from lowest to highest precedence, by its default, the JSON config
// file (--config or CERTSTATUS_CONFIG; keys are the flag names), the
// environment variable CERTSTATUS_<FLAG> (upper case, "-" → "_"), and the
// command-line flag.
type Config struct {
	// Data is the data directory holding certstatus.db, master.key and
	// admin-accesskey.json. Default "./data".
	Data string
	// APIAddr is the JSON API listener. Default "127.0.0.1:8080".
	APIAddr string
	// OCSPAddr is the OCSP listener. Default "127.0.0.1:8888".
	OCSPAddr string
	// OCSPURL is the responder URL written into issued certificates' AIA
	// extension. Default "http://" + OCSPAddr.
	OCSPURL string
	// CRLBaseURL prefixes the CRL distribution point of issued certificates
	// (<CRLBaseURL>/crl/<ca>.crl). Default: OCSPURL.
	CRLBaseURL string
	// MasterKeyFile holds the 64-hex-character key sealing private keys at
	// rest. Default "<Data>/master.key", created on first use.
	MasterKeyFile string
	// CRLValidity is nextUpdate − thisUpdate of CRLs, 1h..720h. Default 24h.
	CRLValidity string
	// CRLRetention is how long an expired revoked certificate stays on the
	// CRL. Default 2160h (90 days).
	CRLRetention string
	// LogFormat is "text" or "json". Default "text".
	LogFormat string
	// LogLevel is "debug", "info", "warn" or "error". Default "info".
	LogLevel string

	// OCSP responder settings (serve). Defaults: validity 24h (8h..7d),
	// delegated responder certificates valid 30 days, ResponderID byKey,
	// unknown serials answered unknown, 64 concurrent live signatures, no
	// GET path prefix.
	OCSPValidity          string
	OCSPRefreshAfter      string
	OCSPRefreshShare      string
	OCSPResponderValidity string
	OCSPSignWithCA        string
	OCSPResponderID       string
	OCSPUnknown           string
	OCSPMaxLive           string
	OCSPPathPrefix        string
	OCSPQuickHTTP         string
	OCSPAnswerCache       string

	// Connection caps of the listeners (serve). Default 10000 (OCSP) and
	// 1000 (API), lowered to fit RLIMIT_NOFILE when not set.
	OCSPMaxConns string
	APIMaxConns  string

	// ocspURLDefaulted is true when OCSPURL was derived from OCSPAddr, so
	// serve may correct it once it knows the port it really bound.
	ocspURLDefaulted bool
	// crl is the parsed CRL policy.
	crl             ca.CRLPolicy
	crlURLDefaulted bool
}

// setting binds one Config field to its flag, variable and default.
type setting struct {
	name  string
	dst   *string
	def   string
	usage string
}

func (c *Config) settings(withListeners bool) []setting {
	s := []setting{
		{"data", &c.Data, "./data", "data directory"},
		{"master-key-file", &c.MasterKeyFile, "", "master key file (default <data>/master.key)"},
		{"ocsp-url", &c.OCSPURL, "", "OCSP URL written into issued certificates (default http://<ocsp-addr>)"},
		{"crl-base-url", &c.CRLBaseURL, "", "CRL distribution point prefix (default <ocsp-url>)"},
		{"crl-validity", &c.CRLValidity, "24h", "CRL validity (nextUpdate - thisUpdate), 1h..720h"},
		{"crl-retention", &c.CRLRetention, "2160h", "how long an expired revoked certificate stays on the CRL"},
		{"log-format", &c.LogFormat, "text", "log format: text or json"},
		{"log-level", &c.LogLevel, "info", "log level: debug, info, warn or error"},
		{"ocsp-addr", &c.OCSPAddr, "127.0.0.1:8888", "OCSP listen address"},
	}
	if withListeners {
		s = append(s,
			setting{"api-addr", &c.APIAddr, "127.0.0.1:8080", "JSON API listen address"},
			setting{"ocsp-validity", &c.OCSPValidity, "24h", "OCSP response validity (nextUpdate - thisUpdate), 8h..168h"},
			setting{"ocsp-refresh-after", &c.OCSPRefreshAfter, "", "age at which pre-signed OCSP answers are re-signed, 1m..half the validity (default a third of --ocsp-validity)"},
			setting{"ocsp-refresh-share", &c.OCSPRefreshShare, "0.05", "share of the time the background refresh of pre-signed OCSP answers works (it sleeps the rest), 0.01..1"},
			setting{"ocsp-responder-validity", &c.OCSPResponderValidity, "720h", "validity of the delegated OCSP responder certificates (rotated automatically)"},
			setting{"ocsp-sign-with-ca", &c.OCSPSignWithCA, "false", "sign OCSP responses with the CA key instead of a delegated responder"},
			setting{"ocsp-responder-id", &c.OCSPResponderID, "byKey", "OCSP ResponderID: byKey or byName"},
			setting{"ocsp-unknown", &c.OCSPUnknown, "unknown", "answer for serials never issued: unknown, or revoked (RFC 6960 §2.2 certificateHold)"},
			setting{"ocsp-max-live", &c.OCSPMaxLive, "64", "concurrent live OCSP signatures (nonces, several CertIDs) before tryLater"},
			setting{"ocsp-path-prefix", &c.OCSPPathPrefix, "", "path prefix of OCSP GET requests, e.g. /ocsp"},
			setting{"ocsp-quick-http", &c.OCSPQuickHTTP, "true", "answer plain pre-signed OCSP requests with certstatus's own HTTP/1.1 reader, handing every other connection to net/http; false: net/http only"},
			setting{"ocsp-max-conns", &c.OCSPMaxConns, "", "connections the OCSP listener holds open; at the cap the longest idle one is closed for a new one (default 10000, lowered to fit the descriptor limit)"},
			setting{"api-max-conns", &c.APIMaxConns, "", "connections the API listener holds open; at the cap the longest idle one is closed for a new one (default 1000, lowered to fit the descriptor limit)"},
			setting{"ocsp-answer-cache", &c.OCSPAnswerCache, "10000", "pre-signed OCSP answers kept in memory for the hot path, and an eighth as many serials found unknown (any database write retires them all); 0: none"},
		)
	}
	return s
}

// envName is the environment variable of a flag.
func envName(flagName string) string {
	return "CERTSTATUS_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// bindConfig registers the config flags (and --config) on fs. Call
// resolve after fs.Parse.
func bindConfig(fs *flag.FlagSet, withListeners bool) (*Config, func(getenv func(string) string) error) {
	c := &Config{}
	settings := c.settings(withListeners)
	vals := make(map[string]*string, len(settings))
	for _, s := range settings {
		v := new(string)
		vals[s.name] = v
		fs.StringVar(v, s.name, s.def, s.usage+" [$"+envName(s.name)+"]")
	}
	configFile := fs.String("config", "", "JSON config file; keys are flag names [$CERTSTATUS_CONFIG]")
	resolve := func(getenv func(string) string) error {
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		for _, s := range settings {
			*s.dst = s.def
		}
		path := *configFile
		if path == "" {
			path = getenv("CERTSTATUS_CONFIG")
		}
		if path != "" {
			if err := applyFile(path, settings); err != nil {
				return err
			}
		}
		for _, s := range settings {
			if v, ok := lookupEnv(getenv, envName(s.name)); ok {
				*s.dst = v
			}
			if set[s.name] {
				*s.dst = *vals[s.name]
			}
		}
		return c.finish()
	}
	return c, resolve
}

func lookupEnv(getenv func(string) string, name string) (string, bool) {
	v := getenv(name)
	return v, v != ""
}

func applyFile(path string, settings []setting) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return fmt.Errorf("config %s: not a JSON object: %w", path, err)
	}
	known := map[string]*string{}
	for _, s := range settings {
		known[s.name] = s.dst
		known[strings.ReplaceAll(s.name, "-", "_")] = s.dst
	}
	var unknown []string
	for k, v := range m {
		dst, ok := known[k]
		if !ok {
			unknown = append(unknown, k)
			continue
		}
		str, ok := v.(string)
		if !ok {
			return fmt.Errorf("config %s: %q must be a string", path, k)
		}
		*dst = str
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return fmt.Errorf("config %s: unknown key(s) %s", path, strings.Join(unknown, ", "))
	}
	return nil
}

// finish fills derived defaults and checks values.
func (c *Config) finish() error {
	if c.Data == "" {
		return fmt.Errorf("config: data directory is empty")
	}
	if c.MasterKeyFile == "" {
		c.MasterKeyFile = filepath.Join(c.Data, "master.key")
	}
	if c.OCSPURL == "" {
		c.OCSPURL = "http://" + c.OCSPAddr
		c.ocspURLDefaulted = true
	}
	if c.CRLBaseURL == "" {
		c.CRLBaseURL = c.OCSPURL
		c.crlURLDefaulted = true
	}
	v, err := time.ParseDuration(c.CRLValidity)
	if err != nil || v < time.Hour || v > 720*time.Hour {
		return fmt.Errorf("config: crl-validity %q: want a duration from 1h to 720h", c.CRLValidity)
	}
	r, err := time.ParseDuration(c.CRLRetention)
	if err != nil || r < 0 {
		return fmt.Errorf("config: crl-retention %q: want a duration such as 2160h", c.CRLRetention)
	}
	c.crl = ca.CRLPolicy{Validity: v, Retention: r}
	switch c.LogFormat {
	case "text", "json":
	default:
		return fmt.Errorf("config: log format %q: want text or json", c.LogFormat)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("config: log level %q: want debug, info, warn or error", c.LogLevel)
	}
	return nil
}

// boundOCSP replaces defaulted URLs that name port 0 with the address the
// OCSP listener really bound.
func (c *Config) boundOCSP(addr string) {
	if c.ocspURLDefaulted {
		c.OCSPURL = "http://" + addr
	}
	if c.crlURLDefaulted {
		c.CRLBaseURL = c.OCSPURL
	}
}
