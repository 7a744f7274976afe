package main

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The kinds of setting: each parses its raw value (default, config file,
// environment or flag, all strings) into a typed Config field, and says
// what it wants when the value does not fit.

func str(name string, dst *string, def, usage string) setting {
	return setting{name: name, def: def, usage: usage, set: func(v string) error { *dst = v; return nil }}
}

func oneOf(name string, dst *string, def, usage string, values ...string) setting {
	return setting{name: name, def: def, usage: usage, set: func(v string) error {
		if !slices.Contains(values, v) {
			return fmt.Errorf("want %s", orList(values))
		}
		*dst = v
		return nil
	}}
}

func boolean(name string, dst *bool, def, usage string) setting {
	return setting{name: name, def: def, usage: usage, boolean: true, set: func(v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return errors.New("want true or false (or 1 or 0)")
		}
		*dst = b
		return nil
	}}
}

// integer accepts lo..hi; "" is 0 when zeroOK (the default is computed).
func integer(name string, dst *int, def, usage string, lo, hi int, zeroOK bool, want string) setting {
	return setting{name: name, def: def, usage: usage, numeric: true, set: func(v string) error {
		if v == "" && zeroOK {
			*dst = 0
			return nil
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			return errors.New(want)
		}
		*dst = n
		return nil
	}}
}

// duration accepts lo..hi; "" is 0 when zeroOK (the default is computed).
func duration(name string, dst *time.Duration, def, usage string, lo, hi time.Duration, zeroOK bool, want string) setting {
	return setting{name: name, def: def, usage: usage, set: func(v string) error {
		if v == "" && zeroOK {
			*dst = 0
			return nil
		}
		d, err := time.ParseDuration(v)
		if err != nil || d < lo || d > hi {
			return errors.New(want)
		}
		*dst = d
		return nil
	}}
}

func orList(values []string) string {
	if len(values) == 2 {
		return values[0] + " or " + values[1]
	}
	return strings.Join(values[:len(values)-1], ", ") + " or " + values[len(values)-1]
}

// rawFlag holds a setting's command-line value as given; the resolver
// parses it with the file's and the environment's. A boolean one is a
// flag.Value with IsBoolFlag, so that "--name" alone means true and never
// takes the next argument, and "--name=false" turns it off.
type rawFlag struct {
	v       string
	boolean bool
}

func (f *rawFlag) String() string     { return f.v }
func (f *rawFlag) Set(v string) error { f.v = v; return nil }
func (f *rawFlag) IsBoolFlag() bool   { return f.boolean }
