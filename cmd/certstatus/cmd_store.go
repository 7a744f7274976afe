package main

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/certstatus/certstatus/db"
)

func runBackup(ctx context.Context, e *cmdEnv, args []string) error {
	fs := newFlagSet(e, "backup", "backup --out FILE [--data DIR]")
	cfg, resolve := bindConfig(fs, false)
	out := fs.String("out", "", "file to write the copy to (must not exist)")
	return runOffline(e, fs, cfg, resolve, args, func(s *service, pos []string) error {
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
		fmt.Fprintf(e.stdout, "wrote %s (%d bytes): a consistent copy of %s\n", *out, n, s.store.Path())
		fmt.Fprintf(e.stdout, "restore: copy it to <data>/certstatus.db with the same master key (%s)\n", cfg.MasterKeyFile)
		return nil
	})
}

func runCheck(ctx context.Context, e *cmdEnv, args []string) error {
	fs := newFlagSet(e, "check", "check [--data DIR]")
	cfg, resolve := bindConfig(fs, false)
	asJSON := fs.Bool("json", false, "print JSON")
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
	problems, schema, err := db.CheckFile(ctx, cfg.Data, 0)
	if err != nil {
		return err
	}
	path := filepath.Join(cfg.Data, db.FileName)
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
