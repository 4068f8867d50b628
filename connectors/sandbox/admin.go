package sandbox

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/creatorflow/creatorflow/connectors/tiktok"
)

// maxAdminBody bounds an admin request's body: a simulator may register
// many thousands of orders at once.
const maxAdminBody = 64 << 20

// adminRoutes serves the test's and operator's side under /sandbox/: no
// auth, no faults, not counted in the request log or the rate limits.
// Answers use the API's envelope, without a request id.
func (s *Server) adminRoutes() {
	s.mux.HandleFunc("POST /sandbox/orders", func(w http.ResponseWriter, r *http.Request) {
		var orders []tiktok.Order
		if !decodeAdmin(w, r, &orders) {
			return
		}
		s.adminAnswer(w, map[string]int{"orders": len(orders)}, s.UpsertOrders(orders))
	})
	s.mux.HandleFunc("GET /sandbox/orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		st, err := s.Order(r.PathValue("id"))
		s.adminAnswer(w, st, err)
	})
	s.mux.HandleFunc("POST /sandbox/orders/{id}/status", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Status string `json:"status"`
		}
		if !decodeAdmin(w, r, &body) {
			return
		}
		o, err := s.SetOrderStatus(r.PathValue("id"), body.Status)
		s.adminAnswer(w, o, err)
	})
	s.mux.HandleFunc("POST /sandbox/products", func(w http.ResponseWriter, r *http.Request) {
		var products []tiktok.Product
		if !decodeAdmin(w, r, &products) {
			return
		}
		s.adminAnswer(w, map[string]int{"products": len(products)}, s.AddProducts(products))
	})
	s.mux.HandleFunc("GET /sandbox/catalog", func(w http.ResponseWriter, _ *http.Request) {
		s.adminAnswer(w, map[string][]tiktok.Product{"products": s.Catalog()}, nil)
	})
	s.mux.HandleFunc("POST /sandbox/videos", func(w http.ResponseWriter, r *http.Request) {
		var videos []VideoModel
		if !decodeAdmin(w, r, &videos) {
			return
		}
		s.adminAnswer(w, map[string]int{"videos": len(videos)}, s.AddVideos(videos))
	})
	s.mux.HandleFunc("POST /sandbox/token/expire", func(w http.ResponseWriter, _ *http.Request) {
		s.adminAnswer(w, map[string]int{"expired": s.ExpireTokens()}, nil)
	})
	s.mux.HandleFunc("GET /sandbox/requests", func(w http.ResponseWriter, _ *http.Request) {
		s.adminAnswer(w, map[string][]Request{"requests": s.Requests()}, nil)
	})
	s.mux.HandleFunc("DELETE /sandbox/requests", func(w http.ResponseWriter, _ *http.Request) {
		s.adminAnswer(w, map[string]int{"cleared": s.ClearRequests()}, nil)
	})
}

// decodeAdmin reads a JSON body into v, answering 400 when it cannot.
func decodeAdmin(w http.ResponseWriter, r *http.Request, v any) bool {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxAdminBody))
	if err == nil {
		err = json.Unmarshal(b, v)
	}
	if err != nil {
		writeEnvelope(w, "", badRequest("body: %v", err))
		return false
	}
	return true
}

// adminAnswer answers data, or err: 404 for ErrNotFound, else 400 (the
// admin methods fail only on bad input).
func (s *Server) adminAnswer(w http.ResponseWriter, data any, err error) {
	switch {
	case errors.Is(err, ErrNotFound):
		writeEnvelope(w, "", failure(http.StatusNotFound, tiktok.CodeNotFound, "%v", err))
	case err != nil:
		writeEnvelope(w, "", badRequest("%v", err))
	default:
		writeEnvelope(w, "", success(data))
	}
}

// Request is one API request as the sandbox answered it.
type Request struct {
	Time      time.Time `json:"time"` // the sandbox's clock on arrival
	Method    string    `json:"method"`
	Path      string    `json:"path"`
	Route     string    `json:"route"`
	Shop      string    `json:"shop,omitempty"`
	Status    int       `json:"status"` // HTTP
	Code      int       `json:"code"`   // envelope
	Outcome   string    `json:"outcome"`
	RequestID string    `json:"request_id"`
}

// maxLoggedRequests bounds the request log: the last ones are kept.
const maxLoggedRequests = 100_000

// requestLog is a ring of the last maxLoggedRequests API requests.
type requestLog struct {
	mu   sync.Mutex
	ring []Request
	next int // the oldest entry, overwritten next, once the ring is full
}

func (l *requestLog) add(r Request) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.ring) < maxLoggedRequests {
		l.ring = append(l.ring, r)
		return
	}
	l.ring[l.next] = r
	l.next = (l.next + 1) % maxLoggedRequests
}

// Requests returns the last API requests (up to 100,000), oldest first,
// so a test can check what a client sent and how fast (also the admin
// route GET /sandbox/requests).
func (s *Server) Requests() []Request {
	l := &s.reqs
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]Request, 0, len(l.ring))
	out = append(out, l.ring[l.next:]...)
	return append(out, l.ring[:l.next]...)
}

// ClearRequests empties the request log (the admin route DELETE
// /sandbox/requests), so a test can look at one phase alone. It returns
// how many entries there were.
func (s *Server) ClearRequests() int {
	l := &s.reqs
	l.mu.Lock()
	defer l.mu.Unlock()
	n := len(l.ring)
	l.ring, l.next = nil, 0
	return n
}
