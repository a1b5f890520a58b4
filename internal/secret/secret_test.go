package secret

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

const clear = "tok-9f8e7d6c5b4a"

func TestNeverPrinted(t *testing.T) {
	t.Parallel()
	v := New(clear)
	s := struct{ Token Value }{v}
	for _, out := range []string{
		fmt.Sprint(v), fmt.Sprintf("%s %v %q %x %d %+v %#v", v, v, v, v, v, s, s), v.String(), v.GoString(),
	} {
		require.NotContains(t, out, clear)
		require.Contains(t, out, redacted)
	}
	b, err := json.Marshal(s)
	require.NoError(t, err)
	require.NotContains(t, string(b), clear)

	core, logs := observer.New(zapcore.DebugLevel)
	l := zap.New(core)
	l.Debug("token", zap.Any("a", v), zap.Stringer("b", v), zap.Reflect("c", s), zap.Any("d", s))
	for _, e := range logs.AllUntimed() {
		for k, f := range e.ContextMap() {
			require.NotContains(t, fmt.Sprint(f), clear, k)
		}
	}
	require.Equal(t, clear, v.Reveal())
}

func TestFingerprint(t *testing.T) {
	t.Parallel()
	a, b := New(clear), New(clear+"x")
	require.Len(t, a.Fingerprint(), 16)
	require.Equal(t, a.Fingerprint(), New(clear).Fingerprint())
	require.NotEqual(t, a.Fingerprint(), b.Fingerprint())
	require.NotContains(t, a.Fingerprint(), clear)
}
