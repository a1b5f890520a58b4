//go:build chaos

package failpoint

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
)

// armed is the point this process crashes at, read once at start-up.
var armed = parse(os.Getenv(Env))

type trigger struct {
	name Name
	at   int64 // crash on this hit, from 1
	hits atomic.Int64
}

// parse reads name[@n]; an unknown name or a bad count stops the process
// with exit code 2, so a typo in a test never passes silently.
func parse(v string) *trigger {
	if v == "" {
		return nil
	}
	name, count, hasCount := strings.Cut(v, "@")
	t := &trigger{name: Name(name), at: 1}
	if !slices.Contains(Names(), t.name) {
		fail(fmt.Sprintf("%s=%q: unknown point %q (want one of %v, optionally @n)", Env, v, name, Names()))
	}
	if hasCount {
		n, err := strconv.ParseInt(count, 10, 64)
		if err != nil || n < 1 {
			fail(fmt.Sprintf("%s=%q: the count after @ must be a whole number ≥ 1, like %s@3", Env, v, name))
		}
		t.at = n
	}
	return t
}

func fail(msg string) {
	_, _ = fmt.Fprintln(os.Stderr, "syncd:", msg)
	os.Exit(2)
}

// Hit kills the process with SIGKILL when name is the armed point and this is
// its n-th hit. It says so on stderr first, so the suite can tell a crash it
// asked for from a real one.
func Hit(name Name) {
	t := armed
	if t == nil || t.name != name || t.hits.Add(1) != t.at {
		return
	}
	_, _ = fmt.Fprintf(os.Stderr, "syncd: failpoint %s hit %d times: killing the process\n", name, t.at)
	_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
	select {} // SIGKILL cannot be caught; nothing runs after it
}
