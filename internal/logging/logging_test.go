package logging

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/syncd/syncd/internal/secret"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const clearToken = "tok-LEAK-CANARY-4b1d"

func TestParseFormat(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want Format
	}{{"json", FormatJSON}, {" Console ", FormatConsole}, {"JSON", FormatJSON}} {
		got, err := ParseFormat(tc.in)
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.want, got)
	}
	for _, in := range []string{"", "text", "logfmt"} {
		_, err := ParseFormat(in)
		require.Error(t, err, in)
	}
}

func TestParseLevel(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want zapcore.Level
	}{{"debug", zapcore.DebugLevel}, {" INFO ", zapcore.InfoLevel}, {"warn", zapcore.WarnLevel}, {"error", zapcore.ErrorLevel}} {
		got, err := ParseLevel(tc.in)
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.want, got)
	}
	for _, in := range []string{"", "verbose", "trace"} {
		_, err := ParseLevel(in)
		require.Error(t, err, in)
	}
}

func TestNewJSON(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	log, err := New(Options{Level: zapcore.InfoLevel, Format: FormatJSON, Output: &buf})
	require.NoError(t, err)

	Component(log.Logger, "poller").Info("poll tick done", zap.Int("series", 3))
	log.Debug("hidden at info")
	require.NoError(t, log.Sync())

	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	require.Len(t, lines, 1)
	var entry map[string]any
	require.NoError(t, json.Unmarshal([]byte(lines[0]), &entry))
	require.Equal(t, "info", entry["level"])
	require.Equal(t, "poller", entry["logger"])
	require.Equal(t, "poll tick done", entry["msg"])
	require.InDelta(t, 3, entry["series"], 0)
	// ISO 8601, not epoch seconds.
	ts, ok := entry["ts"].(string)
	require.True(t, ok, "ts should be a string: %v", entry["ts"])
	require.Regexp(t, `^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}`, ts)
}

func TestNewConsole(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	log, err := New(Options{Level: zapcore.DebugLevel, Format: FormatConsole, Output: &buf})
	require.NoError(t, err)
	log.Named("store").Debug("migration applied", zap.String("version", "001"))
	require.Contains(t, buf.String(), "DEBUG\tstore\t")
	require.Contains(t, buf.String(), "migration applied")
	require.Contains(t, buf.String(), `{"version": "001"}`)
}

func TestNewDefaultsAndBadFormat(t *testing.T) {
	t.Parallel()
	log, err := New(Options{})
	require.NoError(t, err)
	require.Equal(t, zapcore.InfoLevel, log.Level.Level())

	_, err = New(Options{Format: "xml"})
	require.Error(t, err)
}

func TestAtomicLevel(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	log, err := New(Options{Level: zapcore.WarnLevel, Output: &buf})
	require.NoError(t, err)
	child := Component(log.Logger, "backfill")
	child.Info("before")
	log.Level.SetLevel(zapcore.InfoLevel)
	child.Info("after")
	require.NotContains(t, buf.String(), "before")
	require.Contains(t, buf.String(), "after")
}

func TestNoSampling(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	log, err := New(Options{Output: &buf})
	require.NoError(t, err)
	// zap's production sampling keeps the first 100 of a message per second;
	// with sampling off every one of these must arrive.
	const n = 250
	for i := range n {
		log.Info("bar quarantined", zap.Int("i", i))
	}
	require.Equal(t, n, strings.Count(buf.String(), "bar quarantined"))
}

func TestComponentNil(t *testing.T) {
	t.Parallel()
	l := Component(nil, "x")
	require.NotNil(t, l)
	l.Info("goes nowhere")
}

// TestSecretNeverLogged proves that a token held in a secret.Value does not
// reach a log line through any field constructor or formatting path, even at
// debug level and in both encodings.
func TestSecretNeverLogged(t *testing.T) {
	t.Parallel()
	tok := secret.New(clearToken)
	holder := struct {
		Vendor string
		Token  secret.Value
	}{"alltick", tok}

	for _, format := range []Format{FormatJSON, FormatConsole} {
		t.Run(string(format), func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			log, err := New(Options{Level: zapcore.DebugLevel, Format: format, Output: &buf})
			require.NoError(t, err)
			logEveryWay(log.Logger, tok, holder)
			require.NoError(t, log.Sync())
			require.NotEmpty(t, buf.String())
			require.NotContains(t, buf.String(), clearToken)
			require.Contains(t, buf.String(), "[REDACTED]")
		})
	}

	t.Run("Observer", func(t *testing.T) {
		t.Parallel()
		core, logs := observer.New(zapcore.DebugLevel)
		logEveryWay(zap.New(core), tok, holder)
		require.NotZero(t, logs.Len())
		for _, e := range logs.AllUntimed() {
			require.NotContains(t, e.Message, clearToken)
			for k, v := range e.ContextMap() {
				require.NotContains(t, fmt.Sprint(v), clearToken, k)
			}
		}
	})
}

func logEveryWay(log *zap.Logger, tok secret.Value, holder any) {
	log = log.Named("leakcheck").With(zap.Any("with", tok))
	log.Debug("any", zap.Any("token", tok))
	log.Debug("stringer", zap.Stringer("token", tok))
	log.Debug("reflect", zap.Reflect("holder", holder))
	log.Debug("any holder", zap.Any("holder", holder))
	log.Debug("error", zap.Error(fmt.Errorf("dial vendor with %v: %w", tok, errors.New("refused"))))
	log.Debug("sprintf " + fmt.Sprintf("%v %+v %#v %s %q", tok, holder, holder, tok, tok))
	s := log.Sugar()
	s.Debugf("sugar %v %+v", tok, holder)
	s.Debugw("sugar kv", "token", tok, "holder", holder)
}
