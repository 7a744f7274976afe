package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"math/big"
	"path/filepath"
	"time"

	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/internal/fsutil"
	"github.com/certstatus/certstatus/internal/ram"
)

// AdminKeyFile is the file, inside the data directory, where the bootstrap
// administrator AccessKey is written.
const AdminKeyFile = "admin-accesskey.json"

// devRootAlias names the root CA that bootstrap creates.
const devRootAlias = "dev-root"

// bootstrapResult says what bootstrap created; zero fields were reused.
type bootstrapResult struct {
	Root, Sub     *certs.CA
	AccessKeyID   string
	AccessKeyFile string
	// DevPKI is true when the store holds the dev root CA, made now or
	// by an earlier start.
	DevPKI bool
}

// pkiRequest names a root CA and the issuing sub CA to create under it
// (the sub's Parent is filled in).
type pkiRequest struct {
	root certs.RootRequest
	sub  certs.SubRequest
}

// devPKI is the PKI serve's bootstrap creates: for trying certstatus out,
// not for production (certstatus init creates the operator's own).
var devPKI = pkiRequest{
	root: certs.RootRequest{
		Subject:   certs.Subject{Country: "CN", Organization: "certstatus", OrganizationalUnit: "dev", CommonName: "certstatus dev root CA"},
		Algorithm: certs.ECC384,
		Validity:  certs.Validity{Days: 3650},
		Alias:     devRootAlias,
	},
	sub: certs.SubRequest{
		Subject:   certs.Subject{Country: "CN", Organization: "certstatus", OrganizationalUnit: "dev", CommonName: "certstatus dev issuing CA"},
		Algorithm: certs.ECC256,
		Validity:  certs.Validity{Days: 1825},
		PathLen:   0,
		Alias:     "dev-issuing",
	},
}

// createPKI creates the sub CA of p under root, and first the root of p
// when root is nil. res gets what was created.
func (s *service) createPKI(ctx context.Context, p pkiRequest, root *certs.CA, res *bootstrapResult) error {
	if root == nil {
		r, err := s.ca.CreateRoot(ctx, p.root)
		if err != nil {
			return fmt.Errorf("root CA: %w", err)
		}
		root, res.Root = &r, &r
	}
	sr := p.sub
	sr.Parent = root.Identifier
	sub, err := s.ca.CreateSub(ctx, sr)
	if err != nil {
		return fmt.Errorf("sub CA: %w", err)
	}
	res.Sub = &sub
	return nil
}

// bootstrap makes an empty data directory a working service: the dev
// PKI (a root CA and an issuing sub CA) and an administrator AccessKey.
// It creates only what is missing, so later starts reuse everything. A
// data directory certstatus init made (it has settings and an admin
// AccessKey from before this start) gets no dev PKI, even without CAs.
func (s *service) bootstrap(ctx context.Context) (bootstrapResult, error) {
	var res bootstrapResult
	cas, err := s.store.CAs(ctx)
	if err != nil {
		return res, err
	}
	keys, err := s.store.AccessKeys(ctx)
	if err != nil {
		return res, err
	}
	// The dev root is created only into an empty store; its sub CA also
	// when a first start was interrupted between the two, so the service
	// never comes up with a root and nothing that can issue.
	var root *certs.CA
	create := false
	if len(cas) == 0 {
		create = s.createdSettings || len(keys) == 0
	} else if len(cas) == 1 && cas[0].Kind == certs.KindRootCA && cas[0].Alias == devRootAlias && cas[0].State == certs.StateIssued {
		root, create = &cas[0], true
	}
	if create {
		if err := s.createPKI(ctx, devPKI, root, &res); err != nil {
			return res, fmt.Errorf("bootstrap %w", err)
		}
	}
	if len(keys) == 0 {
		id, path, err := s.createAdminKey(ctx)
		if err != nil {
			return res, fmt.Errorf("bootstrap access key: %w", err)
		}
		res.AccessKeyID, res.AccessKeyFile = id, path
	}
	res.DevPKI, err = s.devPKIInUse(ctx)
	return res, err
}

// devPKIInUse reports whether the store holds the dev root CA that
// bootstrap creates.
func (s *service) devPKIInUse(ctx context.Context) (bool, error) {
	cas, err := s.store.CAs(ctx)
	if err != nil {
		return false, err
	}
	for _, c := range cas {
		if c.Kind == certs.KindRootCA && c.Alias == devRootAlias {
			return true, nil
		}
	}
	return false, nil
}

// devPKINote is what serve says, in its summary and its log, about a data
// directory running on the dev PKI.
const devPKINote = "this data directory runs on the dev PKI serve bootstraps (\"certstatus dev root CA\"): for trying certstatus out, not for production; create a production data directory with \"certstatus init\" (see docs/PRODUCTION.md)"

const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

func randomString(n int) (string, error) {
	b := make([]byte, n)
	max := big.NewInt(int64(len(alnum)))
	for i := range b {
		v, err := rand.Int(rand.Reader, max)
		if err != nil {
			return "", err
		}
		b[i] = alnum[v.Int64()]
	}
	return string(b), nil
}

// newAccessKey makes an Alibaba-style AccessKey (LTAI + 20 characters,
// 30-character secret) with the given owner, policy and QPS limit; the
// caller stores it. The secret is returned once and kept only sealed.
func (s *service) newAccessKey(owner, policy string, qps int) (certs.AccessKey, string, error) {
	if _, err := ram.Parse(policy); err != nil {
		return certs.AccessKey{}, "", err
	}
	suffix, err := randomString(20)
	if err != nil {
		return certs.AccessKey{}, "", err
	}
	secret, err := randomString(30)
	if err != nil {
		return certs.AccessKey{}, "", err
	}
	id := "LTAI" + suffix
	sealed, err := s.sealer.Seal([]byte(id), []byte(secret))
	if err != nil {
		return certs.AccessKey{}, "", err
	}
	return certs.AccessKey{ID: id, SealedSecret: sealed, Owner: owner, Policy: policy, QPS: qps, CreatedAt: time.Now().UTC()}, secret, nil
}

// createAdminKey stores an administrator AccessKey and writes it to
// <data>/admin-accesskey.json with mode 0600 — written before the key is
// stored, so a crash never leaves a key nobody can read.
func (s *service) createAdminKey(ctx context.Context) (string, string, error) {
	k, secret, err := s.newAccessKey("admin", ram.AllowAll, 0)
	if err != nil {
		return "", "", err
	}
	path := filepath.Join(s.cfg.Data, AdminKeyFile)
	body, _ := json.MarshalIndent(map[string]string{"AccessKeyId": k.ID, "AccessKeySecret": secret}, "", "  ")
	if err := fsutil.WriteAtomic(path, append(body, '\n'), 0o600); err != nil {
		return "", "", err
	}
	if err := s.store.PutAccessKey(ctx, k); err != nil {
		return "", "", err
	}
	return k.ID, path, nil
}
