package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/db"
	"github.com/certstatus/certstatus/internal/syncbuf"
)

// caFinder is what findCAIn needs of a store.
type caFinder interface {
	CA(ctx context.Context, id certs.Identifier) (certs.CA, error)
	CAs(ctx context.Context) ([]certs.CA, error)
}

// findCA resolves a CA argument of the CLI (--ca, --parent, ca show ID …):
// a CA identifier, else a CA alias. See findCAIn.
func findCA(ctx context.Context, s *service, arg string) (certs.CA, error) {
	return findCAIn(ctx, s.store, arg)
}

// findCAIn resolves arg as a CA identifier, else as the alias of exactly
// one CA. An alias several CAs carry is a usage error naming them; an
// argument that is neither keeps the error of the identifier (a usage
// error when it is not one, the store's not-found error when no CA has it).
func findCAIn(ctx context.Context, st caFinder, arg string) (certs.CA, error) {
	id, perr := certs.ParseIdentifier(arg)
	var getErr error
	if perr == nil {
		c, err := st.CA(ctx, id)
		if err == nil || !errors.Is(err, certs.ErrNotFound) {
			return c, err
		}
		getErr = err
	}
	cas, err := st.CAs(ctx)
	if err != nil {
		return certs.CA{}, err
	}
	var match []certs.CA
	for _, c := range cas {
		if c.Alias != "" && c.Alias == arg {
			match = append(match, c)
		}
	}
	switch len(match) {
	case 1:
		return match[0], nil
	case 0:
		if perr != nil {
			return certs.CA{}, usageErr("%q is neither a CA identifier (%v) nor a CA's alias", arg, perr)
		}
		return certs.CA{}, getErr
	}
	ids := make([]string, len(match))
	for i, c := range match {
		ids[i] = string(c.Identifier)
	}
	return certs.CA{}, usageErr("alias %q names %d CAs (%s): give the identifier", arg, len(match), strings.Join(ids, ", "))
}

// caIdentifierOf resolves the CA argument of a command that does not
// otherwise open the data directory (crl fetch): an identifier is taken as
// it is; an alias is looked up in the store of cfg.Data, or through the
// server holding it (ca show, run there).
func caIdentifierOf(ctx context.Context, e *cmdEnv, cfg *Config, arg string) (certs.Identifier, error) {
	id, perr := certs.ParseIdentifier(arg)
	if perr == nil {
		return id, nil
	}
	if _, err := os.Stat(filepath.Join(cfg.Data, db.FileName)); err != nil {
		return "", usageErr("%v; and no data directory at %s to look a CA alias up in", perr, cfg.Data)
	}
	store, err := db.Open(cfg.Data, &db.Options{Logger: newLogger(cfg, e.stderr)})
	if errors.Is(err, db.ErrLocked) {
		c, cerr := onlineClient(cfg.Data)
		if cerr != nil {
			return "", fmt.Errorf("%w; going through the server instead failed: %v", err, cerr)
		}
		var out syncbuf.Buffer
		if err := runRemote(ctx, &cmdEnv{stdout: &out, stderr: e.stderr, getenv: e.getenv}, c, []string{"ca", "show", arg, "--json"}); err != nil {
			return "", err
		}
		var v certView
		if err := json.Unmarshal([]byte(out.String()), &v); err != nil || v.Identifier == "" {
			return "", fmt.Errorf("the server at %s answered ca show %s with something else: %v", c.Endpoint, arg, err)
		}
		return certs.ParseIdentifier(v.Identifier)
	}
	if err != nil {
		return "", err
	}
	defer store.Close()
	c, err := findCAIn(ctx, store, arg)
	return c.Identifier, err
}
