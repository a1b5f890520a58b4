package alltick

import (
	"encoding/json"
	"strconv"

	"github.com/syncd/syncd/internal/vendor"
	"github.com/syncd/syncd/internal/vendors/transport"
)

// Kind maps a ret code to the sentinel the engines act on. The daily cap's
// answer is undocumented; AllTick is expected to answer it like a rate limit
// (605), which the governor's own persisted count prevents anyway.
func Kind(ret int) error {
	switch ret {
	case RetOK:
		return nil
	case RetRateLimit, RetTooManyRequests, RetTooManyAndClose:
		return vendor.ErrRateLimited
	case RetTokenInvalid:
		return vendor.ErrAuth
	case RetCodeInvalid, RetCodeUnauthorized:
		return vendor.ErrInvalidSymbol
	case RetLevelNotEnough:
		return vendor.ErrUnsupported
	case RetBadHeader, RetQueryInvalid, RetBodyEmpty, 202:
		return vendor.ErrProtocol
	}
	if ret >= 500 && ret < 600 {
		return vendor.ErrTransient
	}
	return vendor.ErrProtocol
}

// envelope checks the HTTP status and the ret code and returns data.
func envelope(r transport.Response, ep vendor.Endpoint) (json.RawMessage, error) {
	var env Envelope
	err := json.Unmarshal(r.Body, &env)
	if r.Status < 200 || r.Status >= 300 {
		if err == nil && env.Ret != 0 && env.Ret != RetOK {
			return nil, &vendor.APIError{Vendor: vendor.AllTick, Endpoint: ep, Code: strconv.Itoa(env.Ret), Message: transport.Clip(env.Msg, 200), Kind: Kind(env.Ret)}
		}
		return nil, &vendor.APIError{Vendor: vendor.AllTick, Endpoint: ep, Kind: transport.StatusKind(r.Status), Message: transport.Clip(string(r.Body), 200)}
	}
	if err != nil {
		return nil, protocol(ep, "envelope", err)
	}
	if env.Ret == 0 {
		return nil, protocol(ep, "envelope", errMissingRet)
	}
	if env.Ret != RetOK {
		return nil, &vendor.APIError{Vendor: vendor.AllTick, Endpoint: ep, Code: strconv.Itoa(env.Ret), Message: transport.Clip(env.Msg, 200), Kind: Kind(env.Ret)}
	}
	if len(env.Data) == 0 || string(env.Data) == "null" {
		return nil, protocol(ep, "envelope", errMissingData)
	}
	return env.Data, nil
}

type wireError string

func (e wireError) Error() string { return string(e) }

const (
	errMissingRet  = wireError("no ret code")
	errMissingData = wireError("no data")
)

func protocol(ep vendor.Endpoint, what string, err error) error {
	return &vendor.APIError{Vendor: vendor.AllTick, Endpoint: ep, Kind: vendor.ErrProtocol, Message: "decode " + what + ": " + transport.Clip(err.Error(), 200)}
}
