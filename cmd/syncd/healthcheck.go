package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/syncd/syncd/internal/config"
)

// HealthcheckOptions are the flags of `syncd healthcheck`.
type HealthcheckOptions struct {
	// Ready asks /readyz (every readiness check) instead of /healthz.
	Ready bool
	// Addr is the host:port to ask; "" means SYNCD_HTTP_ADDR or its default.
	Addr string
	// Timeout bounds the whole request.
	Timeout time.Duration
}

func healthcheckFlags(fs *flag.FlagSet, env *Env) {
	o := &env.Healthcheck
	fs.BoolVar(&o.Ready, "ready", false, "ask /readyz (every readiness check of the daemon) instead of /healthz")
	fs.StringVar(&o.Addr, "addr", "", "`host:port` to ask instead of SYNCD_HTTP_ADDR (e.g. the simulator's -listen address)")
	fs.DurationVar(&o.Timeout, "timeout", 2*time.Second, "give up after this long")
}

func checkHealthcheck(env *Env) []string {
	o := &env.Healthcheck
	var problems []string
	if o.Addr != "" {
		if err := checkProbeAddr(o.Addr); err != nil {
			problems = append(problems, fmt.Sprintf("-addr: %q %s (example: 127.0.0.1:9400)", o.Addr, err))
		}
	}
	if o.Timeout <= 0 {
		problems = append(problems, fmt.Sprintf("-timeout: %s is not positive (example: 2s)", o.Timeout))
	}
	return problems
}

// checkProbeAddr accepts what a listener was given, except port 0: a check
// must know the port it asks.
func checkProbeAddr(addr string) error {
	if err := config.CheckListenAddr(addr); err != nil {
		return err
	}
	if _, port, _ := net.SplitHostPort(addr); port == "0" {
		return errors.New("has port 0, which cannot be asked")
	}
	return nil
}

// probeAddr is where the check connects: the flag, else SYNCD_HTTP_ADDR as
// `syncd run` reads it. A listener on every interface (0.0.0.0, [::] or an
// empty host) is asked on loopback, which it also listens on.
func probeAddr(env *Env) (string, error) {
	addr := env.Healthcheck.Addr
	if addr == "" {
		v, set := env.Getenv(config.EnvHTTPAddr)
		if !set {
			def, _ := config.Lookup(config.EnvHTTPAddr)
			v = def.Default
		}
		addr = strings.TrimSpace(v)
		if addr == "" {
			return "", fmt.Errorf("%s is empty, which disables the health endpoints; nothing to ask", config.EnvHTTPAddr)
		}
		if err := checkProbeAddr(addr); err != nil {
			return "", fmt.Errorf("%s: %q %w", config.EnvHTTPAddr, addr, err)
		}
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("split %q: %w", addr, err)
	}
	switch ip := net.ParseIP(host); {
	case host == "" || (ip != nil && ip.To4() != nil && ip.IsUnspecified()):
		host = "127.0.0.1"
	case ip != nil && ip.IsUnspecified():
		host = "::1"
	}
	return net.JoinHostPort(host, port), nil
}

// healthcheck is `syncd healthcheck`: one GET of /healthz or /readyz, for a
// container's HEALTHCHECK, which has no shell or curl in syncd's image. Only a
// 200 is healthy; anything else returns an error (exit 1) that says what was
// answered.
func healthcheck(ctx context.Context, env *Env) error {
	addr, err := probeAddr(env)
	if err != nil {
		return err
	}
	path := "/healthz"
	if env.Healthcheck.Ready {
		path = "/readyz"
	}
	target := "http://" + addr + path
	ctx, cancel := context.WithTimeout(ctx, env.Healthcheck.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("User-Agent", "syncd-healthcheck/"+env.Build.Version)
	// Never through a proxy from the environment: the target is this
	// container or its neighbour.
	client := &http.Client{Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	resp, err := client.Do(req)
	if err != nil {
		// The client's error repeats method and URL; say them once.
		if uerr, ok := errors.AsType[*url.Error](err); ok {
			err = uerr.Err
		}
		return fmt.Errorf("unhealthy: GET %s: %w", target, err)
	}
	defer func() {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		_ = resp.Body.Close()
	}()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("unhealthy: GET %s answered %s%s", target, resp.Status, bodyHint(resp.Body))
	}
	_, err = fmt.Fprintf(env.Stdout, "healthy: GET %s answered %s\n", target, resp.Status)
	if err != nil {
		return fmt.Errorf("print result: %w", err)
	}
	return nil
}

// bodyHint is the first line of an error answer (readyz says which check
// failed), shortened, for the operator.
func bodyHint(r io.Reader) string {
	line, _ := bufio.NewReader(io.LimitReader(r, 512)).ReadString('\n')
	line = strings.TrimSpace(line)
	if line == "" {
		return ""
	}
	return ": " + line
}
