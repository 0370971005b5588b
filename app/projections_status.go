package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/storeline/storeline/config"
	"github.com/storeline/storeline/projections"
)

// ProjectionStatus is where one projection stands.
type ProjectionStatus struct {
	Name               string                     `json:"name"`
	Version            int                        `json:"version"`
	VersionState       string                     `json:"version_state"` // live or building (a rebuild)
	State              string                     `json:"state"`         // live, catching_up, stalled
	Lag                int64                      `json:"lag"`
	EventsPerSecond    float64                    `json:"events_per_second"`
	ETA                *time.Duration             `json:"eta_ns,omitempty"` // nil when caught up or not moving
	LastCommit         *time.Time                 `json:"last_commit"`
	DeadLettersPending int64                      `json:"dead_letters_pending"`
	Partitions         []projections.PartitionLag `json:"partitions"`
}

// ProjectionsStatus measures every projection twice, over sample, for its rate and ETA.
func ProjectionsStatus(ctx context.Context, cfg *config.Config, log *slog.Logger, sample time.Duration) ([]ProjectionStatus, error) {
	if len(cfg.KafkaBrokers) == 0 || cfg.DatabaseURL == "" {
		return nil, errors.New("storeline projections needs STORELINE_KAFKA_BROKERS and STORELINE_DATABASE_URL (the deployment's)")
	}
	svc, err := StartServices(ctx, cfg, log, true)
	if err != nil {
		return nil, err
	}
	defer svc.Close()
	cl, err := kgo.NewClient(kgo.SeedBrokers(svc.Brokers...))
	if err != nil {
		return nil, fmt.Errorf("kafka client: %w", err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	// Every live and building version of every projection.
	type target struct {
		name, checkpoint string
		version          int
		state            string
		topics           []string
	}
	var targets []target
	for _, p := range allProjections(nil) { // names and topics only
		if _, err := projections.EnsureLive(ctx, svc.Pool, p.Name()); err != nil {
			return nil, err
		}
		vs, err := projections.Versions(ctx, svc.Pool, p.Name())
		if err != nil {
			return nil, err
		}
		for i := len(vs) - 1; i >= 0; i-- {
			if v := vs[i]; v.State == projections.VersionLive || v.State == projections.VersionBuilding {
				targets = append(targets, target{p.Name(), v.Checkpoint, v.Version, v.State, p.Topics()})
			}
		}
	}
	measure := func() (map[string][]projections.PartitionLag, error) {
		out := map[string][]projections.PartitionLag{}
		for _, tg := range targets {
			parts, err := projections.Lag(ctx, adm, svc.Pool, cfg.TopicPrefix, tg.checkpoint, tg.topics)
			if err != nil {
				return nil, fmt.Errorf("projection %s: %w", tg.checkpoint, err)
			}
			out[tg.checkpoint] = parts
		}
		return out, nil
	}
	before, err := measure()
	if err != nil {
		return nil, err
	}
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(sample):
	}
	after, err := measure()
	if err != nil {
		return nil, err
	}
	var out []ProjectionStatus
	for _, tg := range targets {
		s := ProjectionStatus{Name: tg.name, Version: tg.version, VersionState: tg.state, Partitions: after[tg.checkpoint]}
		var moved int64
		for i, part := range s.Partitions {
			s.Lag += part.Lag
			if i < len(before[tg.checkpoint]) {
				moved += part.Next - before[tg.checkpoint][i].Next
			}
		}
		s.EventsPerSecond = float64(moved) / sample.Seconds()
		var last time.Time
		if err := svc.Pool.QueryRow(ctx, `SELECT coalesce(max(updated_at), 'epoch') FROM projection_checkpoints WHERE projection = $1`, tg.checkpoint).Scan(&last); err != nil {
			return nil, err
		}
		if !last.Equal(time.Unix(0, 0)) {
			s.LastCommit = &last
		}
		if err := svc.Pool.QueryRow(ctx, `SELECT count(*) FROM dead_letters WHERE consumer = $1 AND state = 'pending'`, "projection:"+tg.name).Scan(&s.DeadLettersPending); err != nil {
			return nil, err
		}
		switch {
		case s.Lag == 0:
			s.State = "live"
		case s.EventsPerSecond > 0:
			s.State = "catching_up"
			eta := time.Duration(float64(s.Lag) / s.EventsPerSecond * float64(time.Second))
			s.ETA = &eta
		default:
			s.State = "stalled"
		}
		out = append(out, s)
	}
	return out, nil
}
