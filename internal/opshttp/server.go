// Package opshttp serves the operator endpoints on SYNCD_HTTP_ADDR: /metrics
// (Prometheus), /healthz (the process is alive) and /readyz (the daemon can do
// its job: database reachable, migrations applied, vendor not refusing the key).
package opshttp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/zap"
)

// Check is one readiness condition. It returns nil when ready, or an error
// that says what is wrong (shown to operators: no secrets).
type Check struct {
	Name string
	Func func(ctx context.Context) error
}

// Config sets up a Server.
type Config struct {
	// Addr is the listen address, e.g. 127.0.0.1:9464 (required).
	Addr string
	// Gatherer serves /metrics; nil means prometheus.DefaultGatherer.
	Gatherer prometheus.Gatherer
	// Checks decide /readyz; all must pass.
	Checks []Check
	// CheckTimeout bounds each check; default 2 s.
	CheckTimeout time.Duration
	Logger       *zap.Logger
}

// Server is the operator HTTP server.
type Server struct {
	cfg  Config
	log  *zap.Logger
	srv  *http.Server
	ln   net.Listener
	mu   sync.Mutex
	done chan struct{}
}

// New returns a stopped Server.
func New(cfg Config) (*Server, error) {
	if cfg.Addr == "" {
		return nil, errors.New("new ops server: Addr is required")
	}
	if cfg.Gatherer == nil {
		cfg.Gatherer = prometheus.DefaultGatherer
	}
	if cfg.CheckTimeout <= 0 {
		cfg.CheckTimeout = 2 * time.Second
	}
	log := cfg.Logger
	if log == nil {
		log = zap.NewNop()
	}
	s := &Server{cfg: cfg, log: log.Named("http")}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(cfg.Gatherer, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", s.readyz)
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 60 * time.Second}
	return s, nil
}

// Handler returns the server's handler, for tests.
func (s *Server) Handler() http.Handler { return s.srv.Handler }

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	type result struct {
		Name  string `json:"name"`
		OK    bool   `json:"ok"`
		Error string `json:"error,omitempty"`
	}
	out := struct {
		Ready  bool     `json:"ready"`
		Checks []result `json:"checks"`
	}{Ready: true}
	for _, c := range s.cfg.Checks {
		ctx, cancel := context.WithTimeout(r.Context(), s.cfg.CheckTimeout)
		err := c.Func(ctx)
		cancel()
		res := result{Name: c.Name, OK: err == nil}
		if err != nil {
			res.Error = err.Error()
			out.Ready = false
		}
		out.Checks = append(out.Checks, res)
	}
	w.Header().Set("Content-Type", "application/json")
	if !out.Ready {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	if err := json.NewEncoder(w).Encode(out); err != nil {
		s.log.Debug("write readiness answer", zap.Error(err))
	}
}

// Start listens and serves in the background; it returns once listening, so a
// bad address fails start-up. A second call does nothing.
func (s *Server) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done != nil {
		return nil
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.cfg.Addr, err)
	}
	s.ln, s.done = ln, make(chan struct{})
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("ops server stopped", zap.Error(err))
		}
	}()
	s.log.Info("ops server listening", zap.String("addr", ln.Addr().String()))
	return nil
}

// Addr returns the address listened on (useful with port 0), or "".
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// Stop shuts the server down gracefully within 5 s; safe to call twice.
func (s *Server) Stop() {
	s.mu.Lock()
	done := s.done
	s.mu.Unlock()
	if done == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = s.srv.Shutdown(ctx)
	<-done
}
