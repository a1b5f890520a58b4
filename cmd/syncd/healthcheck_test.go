package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/syncd/syncd/internal/opshttp"
)

// opsServer serves the real ops endpoints; ready decides /readyz.
func opsServer(t *testing.T, ready error) string {
	t.Helper()
	srv, err := opshttp.New(opshttp.Config{Addr: "unused:0", Checks: []opshttp.Check{
		{Name: "database", Func: func(context.Context) error { return ready }},
	}})
	require.NoError(t, err)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return ts.Listener.Addr().String()
}

func portOf(t *testing.T, addr string) string {
	t.Helper()
	_, port, err := net.SplitHostPort(addr)
	require.NoError(t, err)
	return port
}

func TestHealthcheck(t *testing.T) {
	t.Parallel()
	down := errors.New("ping database: connection refused")

	t.Run("HealthyOnTheListenAddressOfEveryInterface", func(t *testing.T) {
		t.Parallel()
		addr := opsServer(t, down)
		r := runReal(t, []string{"SYNCD_HTTP_ADDR=0.0.0.0:" + portOf(t, addr)}, "healthcheck")
		require.Equal(t, exitOK, r.code, r.stderr)
		require.Equal(t, "healthy: GET http://"+addr+"/healthz answered 200 OK\n", r.stdout)
		require.Empty(t, r.stderr, "no logger, no log lines in the container's health log")
	})

	t.Run("ReadyAsksReadyz", func(t *testing.T) {
		t.Parallel()
		addr := opsServer(t, nil)
		r := runReal(t, []string{"SYNCD_HTTP_ADDR=" + addr}, "healthcheck", "-ready")
		require.Equal(t, exitOK, r.code, r.stderr)
		require.Equal(t, "healthy: GET http://"+addr+"/readyz answered 200 OK\n", r.stdout)
	})

	t.Run("NotReadySaysWhy", func(t *testing.T) {
		t.Parallel()
		addr := opsServer(t, down)
		r := runReal(t, []string{"SYNCD_HTTP_ADDR=" + addr}, "healthcheck", "-ready")
		require.Equal(t, exitFailure, r.code)
		require.Contains(t, r.stderr, "syncd healthcheck: unhealthy: GET http://"+addr+"/readyz answered 503 Service Unavailable: ")
		require.Contains(t, r.stderr, "connection refused")
		require.Empty(t, r.stdout)
	})

	t.Run("AddrFlagWinsOverTheVariable", func(t *testing.T) {
		t.Parallel()
		addr := opsServer(t, nil)
		r := runReal(t, []string{"SYNCD_HTTP_ADDR="}, "healthcheck", "-addr", addr)
		require.Equal(t, exitOK, r.code, r.stderr)
		require.Contains(t, r.stdout, "http://"+addr+"/healthz")
	})

	t.Run("NothingListening", func(t *testing.T) {
		t.Parallel()
		var lc net.ListenConfig
		ln, err := lc.Listen(t.Context(), "tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := ln.Addr().String()
		require.NoError(t, ln.Close())
		r := runReal(t, []string{"SYNCD_HTTP_ADDR=" + addr}, "healthcheck")
		require.Equal(t, exitFailure, r.code)
		require.Contains(t, r.stderr, "syncd healthcheck: unhealthy: GET http://"+addr+"/healthz: ")
		require.Contains(t, r.stderr, "connection refused")
	})

	t.Run("NoAnswerWithinTheTimeout", func(t *testing.T) {
		t.Parallel()
		ts := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
		t.Cleanup(ts.Close)
		r := runReal(t, nil, "healthcheck", "-addr", ts.Listener.Addr().String(), "-timeout", "20ms")
		require.Equal(t, exitFailure, r.code)
		require.Contains(t, r.stderr, "context deadline exceeded")
	})

	t.Run("AnyOtherStatusIsUnhealthy", func(t *testing.T) {
		t.Parallel()
		mux := http.NewServeMux()
		mux.Handle("GET /healthz", http.RedirectHandler("/elsewhere", http.StatusFound))
		ts := httptest.NewServer(mux)
		t.Cleanup(ts.Close)
		r := runReal(t, nil, "healthcheck", "-addr", ts.Listener.Addr().String())
		require.Equal(t, exitFailure, r.code)
		require.Contains(t, r.stderr, "answered 404 Not Found", "redirects are followed, and only a 200 counts")
	})

	t.Run("DisabledEndpointsAreUnhealthy", func(t *testing.T) {
		t.Parallel()
		r := runReal(t, []string{"SYNCD_HTTP_ADDR= "}, "healthcheck")
		require.Equal(t, exitFailure, r.code)
		require.Contains(t, r.stderr, "syncd healthcheck: SYNCD_HTTP_ADDR is empty, which disables the health endpoints; nothing to ask\n")
	})

	t.Run("BadVariable", func(t *testing.T) {
		t.Parallel()
		r := runReal(t, []string{"SYNCD_HTTP_ADDR=9464"}, "healthcheck")
		require.Equal(t, exitFailure, r.code)
		require.Contains(t, r.stderr, `SYNCD_HTTP_ADDR: "9464" is not host:port`)
	})

	t.Run("BadFlagsExit2", func(t *testing.T) {
		t.Parallel()
		r := runReal(t, nil, "healthcheck", "-addr", "127.0.0.1:0", "-timeout", "0s")
		require.Equal(t, exitUsage, r.code)
		require.Contains(t, r.stderr, `-addr: "127.0.0.1:0" has port 0, which cannot be asked`)
		require.Contains(t, r.stderr, "-timeout: 0s is not positive")
	})
}

func TestProbeAddr(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, value, flag, want string
		unset                   bool
	}{
		{name: "UnsetTakesRunsDefault", unset: true, want: "127.0.0.1:9464"},
		{name: "Loopback", value: "127.0.0.1:9000", want: "127.0.0.1:9000"},
		{name: "EveryIPv4Interface", value: "0.0.0.0:9464", want: "127.0.0.1:9464"},
		{name: "EmptyHost", value: ":9464", want: "127.0.0.1:9464"},
		{name: "EveryIPv6Interface", value: "[::]:9464", want: "[::1]:9464"},
		{name: "HostName", value: " syncd:9464 ", want: "syncd:9464"},
		{name: "Flag", value: "0.0.0.0:9464", flag: "sim:9400", want: "sim:9400"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := &Env{Healthcheck: HealthcheckOptions{Addr: tc.flag}, Getenv: func(key string) (string, bool) {
				require.Equal(t, "SYNCD_HTTP_ADDR", key)
				return tc.value, !tc.unset
			}}
			got, err := probeAddr(env)
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}
