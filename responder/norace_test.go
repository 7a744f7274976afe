//go:build !race

package responder_test

const raceEnabled = false
