package sim

import (
	"io"
	"net/http"
	"strconv"
)

// The pieces of a wire handler's answer that do not depend on the vendor.

// playFault plays the response-level fault of an admitted call: it waits out
// added latency, hangs on a timeout and sends the 5xx page a proxy in front
// of the vendor would; for a rate-limit fault it calls rateLimit, which
// renders the vendor's own answer. It reports whether the handler should go
// on to answer normally (page, malformed and truncated faults are the
// handler's to apply).
func playFault(w http.ResponseWriter, r *http.Request, call *Call, rateLimit func()) bool {
	if err := call.Fault.Wait(r.Context()); err != nil {
		return false // the client gave up
	}
	switch call.Fault.Kind {
	case FaultTimeout:
		return false // Wait hung until the bound; the client has given up
	case FaultServerError:
		w.WriteHeader(call.Fault.Status)
		_, _ = io.WriteString(w, "<html><body>upstream error</body></html>")
		return false
	case FaultRateLimit:
		rateLimit()
		return false
	}
	return true
}

// writeBody sends body with status, applying the call's malformed or
// truncated fault; call is nil for answers given before admission.
func writeBody(w http.ResponseWriter, call *Call, status int, body []byte) {
	if call != nil {
		switch call.Fault.Kind {
		case FaultMalformed:
			body = call.Fault.Malform(body)
		case FaultTruncated:
			// Promise the whole body, send part of it: the client sees a short read.
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			w.WriteHeader(status)
			_, _ = w.Write(call.Fault.Truncate(body)) //nolint:gosec // JSON for a test client, never rendered as HTML
			return
		}
	}
	w.WriteHeader(status)
	_, _ = w.Write(body) //nolint:gosec // JSON for a test client, never rendered as HTML
}
