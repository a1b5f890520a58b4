package xdtick

import (
	"encoding/json"
	"strconv"

	"github.com/syncd/syncd/internal/vendor"
	"github.com/syncd/syncd/internal/vendors/alltick"
	"github.com/syncd/syncd/internal/vendors/transport"
)

// Kind maps a response code to the sentinel the engines act on. XdTick
// publishes AllTick's error table unchanged, so the classification is
// AllTick's: 429/605/606 rate limited, 401 auth, 600/604 invalid symbol, 603
// unsupported (too many groups or bars for the plan), 400/402/601 protocol.
func Kind(code int) error { return alltick.Kind(code) }

// msgClip bounds vendor text in errors.
const msgClip = 200

type wireError string

func (e wireError) Error() string { return string(e) }

const (
	errMissingCode = wireError("no code in the envelope")
	errMissingData = wireError("no data")
)

// envelope checks the HTTP status and the envelope's code and returns data.
// A body code is believed over the HTTP status when both say something.
func envelope(r transport.Response, ep vendor.Endpoint) (json.RawMessage, error) {
	var env Envelope
	err := json.Unmarshal(r.Body, &env)
	if r.Status < 200 || r.Status >= 300 {
		if err == nil && env.Code != 0 && env.Code != CodeOK {
			return nil, codeError(ep, env)
		}
		return nil, &vendor.APIError{Vendor: vendor.XdTick, Endpoint: ep, Kind: transport.StatusKind(r.Status), Message: transport.Clip(string(r.Body), msgClip)}
	}
	if err != nil {
		return nil, protocol(ep, "envelope", err)
	}
	if env.Code == 0 {
		return nil, protocol(ep, "envelope", errMissingCode)
	}
	if env.Code != CodeOK {
		return nil, codeError(ep, env)
	}
	if len(env.Data) == 0 || string(env.Data) == "null" {
		return nil, protocol(ep, "envelope", errMissingData)
	}
	return env.Data, nil
}

func codeError(ep vendor.Endpoint, env Envelope) error {
	return &vendor.APIError{Vendor: vendor.XdTick, Endpoint: ep, Code: strconv.Itoa(env.Code), Message: transport.Clip(env.Msg, msgClip), Kind: Kind(env.Code)}
}

func protocol(ep vendor.Endpoint, what string, err error) error {
	return &vendor.APIError{Vendor: vendor.XdTick, Endpoint: ep, Kind: vendor.ErrProtocol, Message: "decode " + what + ": " + transport.Clip(err.Error(), msgClip)}
}
