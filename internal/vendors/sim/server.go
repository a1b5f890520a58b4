package sim

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/syncd/syncd/internal/calendar"
	"github.com/syncd/syncd/internal/clock"
	"github.com/syncd/syncd/internal/decimal"
	"github.com/syncd/syncd/internal/plan"
	"github.com/syncd/syncd/internal/vendor"
)

// Config configures a simulator. Every field's zero value is usable.
type Config struct {
	// Seed selects the price paths and the fault sequences; 0 is a seed like
	// any other.
	Seed uint64
	// Clock is the real time source; nil means the system clock.
	Clock clock.Clock
	// AsOf, when set, makes the simulator's time start at AsOf instead of
	// now and advance Speed times as fast as Clock (clock.Scaled), to replay
	// a session close or a weekend in a test.
	AsOf time.Time
	// Speed is the time factor with AsOf; 0 or less means 1.
	Speed float64
	// Plan is enforced separately for every (vendor, API key); the zero Plan
	// admits everything.
	Plan plan.Plan
	// Faults are injected into admitted requests; the zero value injects
	// none.
	Faults Faults
	// Logger receives refusals and faults at debug level; nil means no logs.
	Logger *zap.Logger
	// Calendar places sessions; nil builds the default one.
	Calendar *calendar.Calendar
	// RootVendor, when set, also serves that vendor's handler at "/", so a
	// client can use the simulator's address as the vendor's base URL
	// unchanged. Every vendor is always served under "/<name>/".
	RootVendor string
}

// Server is the simulator's HTTP face: vendor handlers mounted by name, plus
// the control endpoints:
//
//	GET  /healthz      "ok"
//	GET  /_sim/stats   the Snapshot as JSON
//	POST /_sim/reset   zero the stats, forget plan usage, restart fault sequences
//	GET  /_sim/truth   ground truth: ?symbol=&market=&tf=&from=&to=[&anchor=exchange]
//	                   (from/to RFC 3339 or Unix seconds); final bars as JSON
type Server struct {
	core *Core
	mux  *http.ServeMux
	root string

	mu      sync.Mutex
	vendors map[string]bool
}

// New builds a simulator from cfg.
func New(cfg Config) (*Server, error) {
	if err := cfg.Faults.Validate(); err != nil {
		return nil, fmt.Errorf("configure simulator: %w", err)
	}
	cal := cfg.Calendar
	if cal == nil {
		c, err := calendar.New()
		if err != nil {
			return nil, fmt.Errorf("configure simulator: %w", err)
		}
		cal = c
	}
	var clk clock.Clock = clock.System{}
	if cfg.Clock != nil {
		clk = cfg.Clock
	}
	if !cfg.AsOf.IsZero() {
		clk = clock.NewScaled(clk, cfg.AsOf, cfg.Speed)
	}
	log := cfg.Logger
	if log == nil {
		log = zap.NewNop()
	}
	core := &Core{
		gen: NewGenerator(cfg.Seed, cal), clk: clk, plan: cfg.Plan, faults: cfg.Faults, seed: cfg.Seed,
		log: log.Named("sim"), stats: NewStats(clk.Now()),
		enforcers: make(map[enforcerKey]*Enforcer), counters: make(map[statKey]uint64),
	}
	s := &Server{core: core, mux: http.NewServeMux(), root: cfg.RootVendor, vendors: make(map[string]bool)}
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	s.mux.HandleFunc("GET /_sim/stats", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, http.StatusOK, core.Stats()) })
	s.mux.HandleFunc("POST /_sim/reset", func(w http.ResponseWriter, _ *http.Request) {
		core.Reset()
		writeJSON(w, http.StatusOK, map[string]string{"status": "reset"})
	})
	s.mux.HandleFunc("GET /_sim/truth", s.truth)
	return s, nil
}

// Core returns the vendor-agnostic core the handlers use.
func (s *Server) Core() *Core { return s.core }

// VendorHandler builds one vendor's wire-format handler on top of the core.
// The handler sees paths as the vendor's own (the "/<name>" prefix is
// stripped), e.g. "/quote-b-api/kline".
type VendorHandler func(core *Core) http.Handler

// RegisterVendor mounts a vendor's handler under "/<name>/" and, if name is
// Config.RootVendor, at "/" too. Registering a name twice is an error.
func (s *Server) RegisterVendor(name string, build VendorHandler) error {
	if name == "" || strings.ContainsAny(name, "/ {}") || strings.HasPrefix(name, "_") {
		return fmt.Errorf("register vendor %q: %w: name must be non-empty, without '/', spaces or braces, not starting with '_'", name, ErrBadRequest)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.vendors[name] {
		return fmt.Errorf("register vendor %q: already registered", name)
	}
	h := build(s.core)
	s.mux.Handle("/"+name+"/", http.StripPrefix("/"+name, h))
	if name == s.root {
		s.mux.Handle("/", h)
	}
	s.vendors[name] = true
	return nil
}

// ServeHTTP serves the vendors and the control endpoints. A request's
// arrival is stamped here, before routing and before the handler reads and
// decodes its body: the plan counts arrivals, and every step between the
// connection and the admission is time in which a busy machine can delay one
// request more than the next, shrinking the spacing the plan sees.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mux.ServeHTTP(w, r.WithContext(withArrival(r.Context(), s.core.clk.Now())))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		// The client went away mid-answer; nothing more can be told to it.
		return
	}
}

// TruthBar is one ground-truth bar as /_sim/truth renders it.
type TruthBar struct {
	TS       int64           `json:"ts"`
	Time     time.Time       `json:"time"`
	Open     decimal.Decimal `json:"open"`
	High     decimal.Decimal `json:"high"`
	Low      decimal.Decimal `json:"low"`
	Close    decimal.Decimal `json:"close"`
	Volume   decimal.Decimal `json:"volume"`
	Turnover decimal.Null    `json:"turnover"`
}

func (s *Server) truth(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	spec, from, to, err := parseTruthQuery(q.Get("symbol"), q.Get("market"), q.Get("tf"), q.Get("anchor"), q.Get("from"), q.Get("to"))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	bars, err := s.core.Truth(spec, from, to)
	if err != nil {
		status := http.StatusInternalServerError
		if errors.Is(err, ErrBadRequest) || errors.Is(err, ErrTooLarge) {
			status = http.StatusBadRequest
		}
		writeJSON(w, status, map[string]string{"error": err.Error()})
		return
	}
	out := make([]TruthBar, len(bars))
	for i, b := range bars {
		out[i] = TruthBar{TS: b.Time.Unix(), Time: b.Time, Open: b.Open, High: b.High, Low: b.Low, Close: b.Close, Volume: b.Volume, Turnover: b.Turnover}
	}
	writeJSON(w, http.StatusOK, out)
}

func parseTruthQuery(symbol, market, tf, anchor, from, to string) (Spec, time.Time, time.Time, error) {
	if symbol == "" || market == "" {
		return Spec{}, time.Time{}, time.Time{}, fmt.Errorf("parse query: symbol and market are required, like symbol=BTCUSDT&market=crypto")
	}
	t, err := vendor.ParseTimeframe(tf)
	if err != nil {
		return Spec{}, time.Time{}, time.Time{}, fmt.Errorf("parse query: %w", err)
	}
	a := calendar.AnchorUTC
	if anchor != "" {
		if a, err = calendar.ParseAnchor(anchor); err != nil {
			return Spec{}, time.Time{}, time.Time{}, fmt.Errorf("parse query: %w", err)
		}
	}
	f, err := parseInstant(from)
	if err != nil {
		return Spec{}, time.Time{}, time.Time{}, fmt.Errorf("parse query from: %w", err)
	}
	e, err := parseInstant(to)
	if err != nil {
		return Spec{}, time.Time{}, time.Time{}, fmt.Errorf("parse query to: %w", err)
	}
	return Spec{Instrument: NewInstrument(symbol, vendor.Market(market)), Timeframe: t, Anchor: a}, f, e, nil
}

func parseInstant(s string) (time.Time, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(n, 0).UTC(), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("want RFC 3339 or Unix seconds, got %q", s)
	}
	return t, nil
}
