package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/creatorflow/creatorflow/connectors/tiktok"
)

// VideoModel is how a video's counters grow: views arrive at
// ViewsPerMinute, times the multiplier of any spike in progress (spikes
// that overlap multiply), and likes, comments and shares are fixed
// fractions of the views. The counters at a time are the integral of the
// rate since Created, so they only grow and are the same for the same
// clock reading.
type VideoModel struct {
	ID             string    `json:"id"`
	Created        time.Time `json:"created"` // zero: when registered
	ViewsPerMinute float64   `json:"views_per_minute"`
	LikeRate       float64   `json:"like_rate"`
	CommentRate    float64   `json:"comment_rate"`
	ShareRate      float64   `json:"share_rate"`
	Spikes         []Spike   `json:"spikes,omitempty"`
}

// Spike multiplies a video's view rate by Multiplier from At for Duration:
// the video going viral. In JSON the duration is a Go duration string
// ("30m").
type Spike struct {
	At         time.Time
	Duration   time.Duration
	Multiplier float64
}

type spikeJSON struct {
	At         time.Time `json:"at"`
	Duration   string    `json:"duration"`
	Multiplier float64   `json:"multiplier"`
}

// MarshalJSON writes the duration as a Go duration string.
func (sp Spike) MarshalJSON() ([]byte, error) {
	return json.Marshal(spikeJSON{At: sp.At, Duration: sp.Duration.String(), Multiplier: sp.Multiplier})
}

// UnmarshalJSON reads the duration as a Go duration string.
func (sp *Spike) UnmarshalJSON(b []byte) error {
	var j spikeJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	d, err := time.ParseDuration(j.Duration)
	if err != nil {
		return fmt.Errorf("spike duration: %w", err)
	}
	*sp = Spike{At: j.At, Duration: d, Multiplier: j.Multiplier}
	return nil
}

func (m VideoModel) validate() error {
	switch {
	case m.ID == "":
		return errors.New("a video has no id")
	case m.ViewsPerMinute < 0:
		return fmt.Errorf("video %s: views_per_minute is negative", m.ID)
	}
	for _, r := range []float64{m.LikeRate, m.CommentRate, m.ShareRate} {
		if r < 0 || r > 1 {
			return fmt.Errorf("video %s: like, comment and share rates are fractions of views, between 0 and 1", m.ID)
		}
	}
	for _, sp := range m.Spikes {
		if sp.Duration <= 0 || sp.Multiplier < 0 {
			return fmt.Errorf("video %s: a spike needs a positive duration and a multiplier of at least 0", m.ID)
		}
	}
	return nil
}

// multiplier is the product of the spikes in progress at t.
func (m VideoModel) multiplier(t time.Time) float64 {
	x := 1.0
	for _, sp := range m.Spikes {
		if !t.Before(sp.At) && t.Before(sp.At.Add(sp.Duration)) {
			x *= sp.Multiplier
		}
	}
	return x
}

// views integrates the view rate from Created to now. The rate is constant
// between consecutive spike boundaries, so the integral is a sum over those
// pieces; a later now only lengthens the last piece or adds pieces, so the
// result never decreases, even in floating point.
func (m VideoModel) views(now time.Time) float64 {
	if !now.After(m.Created) {
		return 0
	}
	cuts := []time.Time{m.Created, now}
	for _, sp := range m.Spikes {
		for _, t := range []time.Time{sp.At, sp.At.Add(sp.Duration)} {
			if t.After(m.Created) && t.Before(now) {
				cuts = append(cuts, t)
			}
		}
	}
	slices.SortFunc(cuts, time.Time.Compare)
	perSecond := m.ViewsPerMinute / 60
	total := 0.0
	for i := 1; i < len(cuts); i++ {
		total += perSecond * m.multiplier(cuts[i-1]) * cuts[i].Sub(cuts[i-1]).Seconds()
	}
	return total
}

// at returns the video's counters at now.
func (m VideoModel) at(now time.Time) tiktok.Video {
	v := m.views(now)
	return tiktok.Video{
		ID:           m.ID,
		CreateTime:   m.Created.Unix(),
		ViewCount:    int64(v),
		LikeCount:    int64(v * m.LikeRate),
		CommentCount: int64(v * m.CommentRate),
		ShareCount:   int64(v * m.ShareRate),
	}
}

// queryVideos serves POST PathVideoQuery: the counters of the videos
// known or synthesizable; others are missing from the list.
func (s *Server) queryVideos(c *call) answer {
	var q tiktok.VideoQuery
	if err := json.Unmarshal(c.body, &q); err != nil {
		return badRequest("body is not a video query: %v", err)
	}
	var ids []string
	for _, id := range q.VideoIDs {
		if id = strings.TrimSpace(id); id != "" && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	switch {
	case len(ids) == 0:
		return badRequest("video_ids is empty")
	case len(ids) > tiktok.MaxBatch:
		return badRequest("%d video ids asked; at most %d per request", len(ids), tiktok.MaxBatch)
	}
	out := make([]tiktok.Video, 0, len(ids))
	s.store.mu.Lock()
	defer s.store.mu.Unlock()
	for _, id := range ids {
		m, ok := s.store.videos[id]
		if !ok && s.cfg.Synthesize && synthesizable(id) {
			m, ok = synthVideo(s.cfg.Seed, id, s.start), true
		}
		if ok {
			out = append(out, m.at(c.now))
		}
	}
	return success(tiktok.VideosData{Videos: out})
}

// AddVideos registers videos with their growth model (the admin route POST
// /sandbox/videos), replacing those with the same id.
func (s *Server) AddVideos(models []VideoModel) error {
	for _, m := range models {
		if err := m.validate(); err != nil {
			return err
		}
	}
	now := s.cfg.Clock().Truncate(time.Second)
	s.store.mu.Lock()
	defer s.store.mu.Unlock()
	for _, m := range models {
		if m.Created.IsZero() {
			m.Created = now
		}
		m.Spikes = slices.Clone(m.Spikes)
		s.store.videos[m.ID] = m
	}
	s.log.Info("sandbox videos registered", "videos", len(models))
	return nil
}
