//go:build chaos

package failpoint

import (
	"os"
	"os/exec"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParse(t *testing.T) {
	t.Parallel()
	require.Nil(t, parse(""))
	tr := parse("during-write")
	require.Equal(t, DuringWrite, tr.name)
	require.EqualValues(t, 1, tr.at)
	tr = parse("after-commit@3")
	require.Equal(t, AfterCommit, tr.name)
	require.EqualValues(t, 3, tr.at)
}

// TestHelperProcess is the child of the tests below: it arms the point given
// in the environment and hits it twice.
func TestHelperProcess(t *testing.T) {
	t.Parallel()
	if os.Getenv("FAILPOINT_HELPER") != "1" {
		t.Skip("helper process for TestHitKills and TestBadSpecExits")
	}
	armed = parse(os.Getenv(Env))
	Hit(AfterResponse) // another point: never kills
	Hit(AfterCommit)
	Hit(AfterCommit)
	os.Exit(0)
}

func child(t *testing.T, spec string) (*os.ProcessState, string) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), "FAILPOINT_HELPER=1", Env+"="+spec)
	out, _ := cmd.CombinedOutput()
	return cmd.ProcessState, string(out)
}

func TestHitKills(t *testing.T) {
	t.Parallel()
	t.Run("OnTheNthHit", func(t *testing.T) {
		t.Parallel()
		st, out := child(t, "after-commit@2")
		ws, ok := st.Sys().(syscall.WaitStatus)
		require.True(t, ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL, "exit: %s", st)
		require.Contains(t, out, "failpoint after-commit hit 2 times")
	})
	t.Run("NotBeforeIt", func(t *testing.T) {
		t.Parallel()
		st, out := child(t, "after-commit@3")
		require.Equal(t, 0, st.ExitCode(), out)
	})
}

func TestBadSpecExits(t *testing.T) {
	t.Parallel()
	for _, spec := range []string{"no-such-point", "after-commit@0", "after-commit@x"} {
		st, out := child(t, spec)
		require.Equal(t, 2, st.ExitCode(), "%s: %s", spec, out)
		require.Contains(t, out, Env)
	}
}
