package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"

	"github.com/certstatus/certstatus/api"
	"github.com/certstatus/certstatus/db"
	"github.com/certstatus/certstatus/internal/acsclient"
)

// backupResult is what backup --json prints.
type backupResult struct {
	// File is the copy written.
	File string
	// Bytes is its size.
	Bytes int64
	// From is the database copied: its path, or the URL of the server
	// that held it.
	From string
	// MasterKeyFile is the key the copy needs to be restored with.
	MasterKeyFile string
}

func runBackup(ctx context.Context, e *cmdEnv, args []string) error {
	return runLeaf(ctx, e, "backup", args)
}

// bindBackup binds the flags of backup and returns what runs it.
func bindBackup(ctx context.Context, e *cmdEnv, fs *flag.FlagSet) func([]string) error {
	cfg, resolve := bindConfig(fs, false)
	out := fs.String("out", "", "file to write the copy to (must not exist)")
	asJSON := fs.Bool("json", false, "print JSON")
	return func(args []string) error {
		return runOfflineOr(e, fs, cfg, resolve, args, func(s *service, pos []string) error {
			if len(pos) > 0 {
				return usageErr("backup takes no arguments, got %q", pos)
			}
			if *out == "" {
				return usageErr("backup needs --out FILE")
			}
			n, err := s.store.BackupFile(ctx, *out)
			if err != nil {
				return err
			}
			if *asJSON {
				return printJSON(e.stdout, backupResult{File: *out, Bytes: n, From: s.store.Path(), MasterKeyFile: cfg.MasterKeyFile})
			}
			fmt.Fprintf(e.stdout, "wrote %s (%d bytes): a consistent copy of %s\n", *out, n, s.store.Path())
			fmt.Fprintf(e.stdout, "restore: copy it to <data>/certstatus.db with the same master key (%s)\n", cfg.MasterKeyFile)
			return nil
		}, func(ctx context.Context, c *acsclient.Client, pos []string) error {
			if len(pos) > 0 {
				return usageErr("backup takes no arguments, got %q", pos)
			}
			if *out == "" {
				return usageErr("backup needs --out FILE")
			}
			n, err := backupFromServer(ctx, c, *out)
			if err != nil {
				return err
			}
			if *asJSON {
				return printJSON(e.stdout, backupResult{File: *out, Bytes: n, From: c.Endpoint, MasterKeyFile: cfg.MasterKeyFile})
			}
			fmt.Fprintf(e.stdout, "wrote %s (%d bytes): a consistent copy of the database the server at %s holds, checked\n", *out, n, c.Endpoint)
			fmt.Fprintf(e.stdout, "restore: copy it to <data>/certstatus.db with the same master key (%s)\n", cfg.MasterKeyFile)
			return nil
		})
	}
}

// backupAction is the API action that streams a consistent copy of the
// database (admin keys only: it holds every sealed key).
const backupAction = "CertstatusBackup"

// backupRunner is backupAction's server side.
func (s *service) backupRunner() api.ExtraAction {
	return func(context.Context, url.Values) (map[string]any, error) {
		return map[string]any{api.StreamKey: api.Stream(func(ctx context.Context, w io.Writer) error {
			_, err := s.store.Backup(ctx, w)
			return err
		})}, nil
	}
}

// backupFromServer downloads the server's copy next to out, checks it
// page by page and record by record (db.CheckFile), and only then gives
// it its name: a cut or damaged download never becomes a backup.
func backupFromServer(ctx context.Context, c *acsclient.Client, out string) (int64, error) {
	if _, err := os.Stat(out); err == nil {
		return 0, fmt.Errorf("backup: %s already exists; choose another name or remove it", out)
	}
	dir, err := os.MkdirTemp(filepath.Dir(out), ".certstatus-backup-")
	if err != nil {
		return 0, fmt.Errorf("backup: %w", err)
	}
	defer os.RemoveAll(dir)
	tmp := filepath.Join(dir, db.FileName)
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return 0, fmt.Errorf("backup: %w", err)
	}
	n, err := c.CallStream(ctx, backupAction, nil, f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return n, fmt.Errorf("backup through the server at %s: %w", c.Endpoint, err)
	}
	problems, _, err := db.CheckFile(ctx, dir, 0)
	if err != nil || len(problems) > 0 {
		return n, fmt.Errorf("backup: the copy from the server does not check (%v, %d problems); nothing was written to %s", err, len(problems), out)
	}
	if err := os.Link(tmp, out); err != nil { // never replaces an existing file
		return n, fmt.Errorf("backup: %w", err)
	}
	return n, nil
}

func runCheck(ctx context.Context, e *cmdEnv, args []string) error {
	return runLeaf(ctx, e, "check", args)
}

// bindCheck binds the flags of check and returns what runs it.
func bindCheck(ctx context.Context, e *cmdEnv, fs *flag.FlagSet) func([]string) error {
	cfg, resolve := bindConfig(fs, false)
	asJSON := fs.Bool("json", false, "print JSON")
	return func(args []string) error {
		pos, help, err := parse(fs, args)
		if help || err != nil {
			return err
		}
		if len(pos) > 0 {
			return usageErr("check takes no arguments, got %q", pos)
		}
		if err := resolve(e.getenv); err != nil {
			return err
		}
		// The file is checked as it is, without the master key and without
		// opening it as a store: check must report on a file serve refuses.
		// Inside serve (through its API) the open store checks itself.
		var (
			problems []db.Problem
			schema   int
		)
		if e.svc != nil {
			problems, err = e.svc.store.Check(ctx)
			schema = e.svc.store.SchemaVersion()
		} else {
			problems, schema, err = db.CheckFile(ctx, cfg.Data, 0)
		}
		if errors.Is(err, db.ErrLocked) {
			return throughServer(ctx, e, cfg.Data, err)
		}
		if err != nil {
			return err
		}
		path := filepath.Join(cfg.Data, db.FileName)
		if e.svc != nil {
			path = e.svc.store.Path()
		}
		if *asJSON {
			ps := make([]string, 0, len(problems))
			for _, p := range problems {
				ps = append(ps, p.String())
			}
			if err := printJSON(e.stdout, map[string]any{"OK": len(problems) == 0, "Problems": ps, "Schema": schema}); err != nil {
				return err
			}
		} else {
			for _, p := range problems {
				fmt.Fprintln(e.stdout, "problem:", p)
			}
		}
		if len(problems) > 0 {
			return fmt.Errorf("check: %d problem(s) in %s: restore the last backup (certstatus backup) as %s, with certstatus stopped", len(problems), path, path)
		}
		if !*asJSON {
			fmt.Fprintf(e.stdout, "ok: %s (schema %d): structure, checksums, records and indexes consistent\n", path, schema)
		}
		return nil
	}
}
