package config

import (
	"errors"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// checkDatabaseURL reports whether pgx can parse s. The error never includes
// s or pgx's own message: pgx redacts passwords only on a best-effort basis
// ("an invalid connection string can be too ambiguous to identify every
// password"), and this message goes to the terminal and the logs.
//
// pgconn.ParseConfig is used rather than pgxpool's so that this package does
// not pull in the pool; pool_* settings pass through it as runtime
// parameters and are checked by pgxpool when the store opens the pool.
func checkDatabaseURL(s string) error {
	if scheme, _, ok := strings.Cut(s, "://"); ok && scheme != "postgres" && scheme != "postgresql" {
		if isSchemeName(scheme) {
			return errors.New("has scheme " + strconv.Quote(scheme+"://") + "; want postgres:// or postgresql://")
		}
		return errors.New("is not a PostgreSQL URL or key=value string")
	}
	if _, err := pgconn.ParseConfig(s); err != nil {
		return errors.New("is not a PostgreSQL URL or key=value string that pgx can parse (value not shown: it may hold a password)")
	}
	return nil
}

// isSchemeName reports whether s is short and made of scheme characters, so it
// can be echoed without echoing a secret that merely precedes "://".
func isSchemeName(s string) bool {
	if s == "" || len(s) > 16 {
		return false
	}
	for _, r := range s {
		if (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') && (r < '0' || r > '9') && r != '+' && r != '-' && r != '.' {
			return false
		}
	}
	return true
}

// RedactDatabaseURL describes a database connection string for logs:
// postgres://user:xxxxx@host:port,host2:port/database. It is built from the
// parsed fields, not by masking the input, so no spelling of a password in
// the input (URL userinfo, ?password=, password='…', sslpassword) can survive.
// A string pgx cannot parse gives "[invalid database URL]".
func RedactDatabaseURL(s string) string {
	cfg, err := pgconn.ParseConfig(s)
	if err != nil {
		return "[invalid database URL]"
	}
	hosts := []string{hostPort(cfg.Host, cfg.Port)}
	for _, fb := range cfg.Fallbacks {
		// pgx adds fallbacks for each address a name resolves to and for TLS
		// modes; show each host once.
		if hp := hostPort(fb.Host, fb.Port); !slices.Contains(hosts, hp) {
			hosts = append(hosts, hp)
		}
	}
	u := url.URL{Scheme: "postgres", Host: strings.Join(hosts, ","), Path: "/" + cfg.Database}
	switch {
	case cfg.User != "" && cfg.Password != "":
		u.User = url.UserPassword(cfg.User, "xxxxx")
	case cfg.User != "":
		u.User = url.User(cfg.User)
	}
	return u.String()
}

func hostPort(host string, port uint16) string {
	if strings.Contains(host, ":") && !strings.HasPrefix(host, "/") {
		host = "[" + host + "]" // IPv6 literal
	}
	return host + ":" + strconv.Itoa(int(port))
}
