package opshttp

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestEndpoints(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "syncd_test_total", Help: "test"})
	reg.MustRegister(c)
	c.Add(3)
	var dbDown atomic.Bool
	s, err := New(Config{Addr: "127.0.0.1:0", Gatherer: reg, Checks: []Check{{Name: "database", Func: func(context.Context) error {
		if dbDown.Load() {
			return errors.New("database unreachable")
		}
		return nil
	}}}})
	require.NoError(t, err)
	h := s.Handler()
	get := func(path string) (int, string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequestWithContext(context.Background(), http.MethodGet, path, nil))
		b, _ := io.ReadAll(rec.Body)
		return rec.Code, string(b)
	}
	code, body := get("/healthz")
	require.Equal(t, 200, code)
	require.Equal(t, "ok\n", body)
	code, body = get("/metrics")
	require.Equal(t, 200, code)
	require.Contains(t, body, "syncd_test_total 3")
	code, body = get("/readyz")
	require.Equal(t, 200, code)
	require.Contains(t, body, `"ready":true`)
	dbDown.Store(true)
	code, body = get("/readyz")
	require.Equal(t, 503, code)
	require.Contains(t, body, "database unreachable")
	dbDown.Store(false)
	code, _ = get("/readyz")
	require.Equal(t, 200, code)
}

func TestStartStop(t *testing.T) {
	t.Parallel()
	s, err := New(Config{Addr: "127.0.0.1:0", Gatherer: prometheus.NewRegistry()})
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, s.Start(ctx))
	require.NoError(t, s.Start(ctx))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+s.Addr()+"/healthz", nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	require.NoError(t, resp.Body.Close())
	require.Equal(t, 200, resp.StatusCode)
	s.Stop()
	s.Stop()

	bad, err := New(Config{Addr: "256.0.0.1:99999"})
	require.NoError(t, err)
	require.Error(t, bad.Start(ctx))
}
