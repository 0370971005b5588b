package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/storeline/storeline/config"
	"github.com/storeline/storeline/events"
	"github.com/storeline/storeline/pii"
	"github.com/storeline/storeline/projections"
	"github.com/storeline/storeline/projections/inventory"
	"github.com/storeline/storeline/projections/privacy"
)

// allProjections are every read model the projector role runs, privacy with the key store it
// shreds in.
func allProjections(keystore *pii.Keystore) []projections.Projection {
	return append(dashboardProjections(), inventory.Projection{}, privacy.Projection{Keys: keystore})
}

// DeadLetters is the operator's access to the dead letters of the projections (storeline dlq).
type DeadLetters struct {
	cfg   *config.Config
	log   *slog.Logger
	svc   *Services
	codec *events.Codec // opened on first need: listing needs only Postgres
	close func()
}

// OpenDeadLetters connects to the deployment's Postgres (and Kafka when a command needs it).
func OpenDeadLetters(ctx context.Context, cfg *config.Config, log *slog.Logger) (*DeadLetters, error) {
	if len(cfg.KafkaBrokers) == 0 || cfg.DatabaseURL == "" {
		return nil, errors.New("storeline dlq needs STORELINE_KAFKA_BROKERS and STORELINE_DATABASE_URL (the deployment's)")
	}
	svc, err := StartServices(ctx, cfg, log, true)
	if err != nil {
		return nil, err
	}
	return &DeadLetters{cfg: cfg, log: log, svc: svc, close: func() {}}, nil
}

// Close releases the connections.
func (d *DeadLetters) Close() {
	d.close()
	d.svc.Close()
}

// List lists dead letters.
func (d *DeadLetters) List(ctx context.Context, f projections.DeadLetterFilter) ([]projections.DeadLetter, error) {
	return projections.ListDeadLetters(ctx, d.svc.Pool, f)
}

// Show returns a dead letter and its event as today's code reads it (nil and the decoding error
// when it still does not decode).
func (d *DeadLetters) Show(ctx context.Context, id string) (projections.DeadLetter, events.Event, error) {
	dl, err := projections.GetDeadLetter(ctx, d.svc.Pool, id)
	if err != nil {
		return dl, nil, err
	}
	codec, err := d.openCodec(ctx)
	if err != nil {
		return dl, nil, err
	}
	ev, err := projections.ReadDeadLetterEvent(ctx, d.svc.Brokers, codec, dl)
	return dl, ev, err
}

// Replay applies a pending dead letter of a projection again, after a fix.
func (d *DeadLetters) Replay(ctx context.Context, id string) error {
	dl, err := projections.GetDeadLetter(ctx, d.svc.Pool, id)
	if err != nil {
		return err
	}
	codec, err := d.openCodec(ctx)
	if err != nil {
		return err
	}
	kek, err := piiKey(d.cfg, d.svc.Embedded)
	if err != nil {
		return err
	}
	keystore, err := pii.NewKeystore(d.svc.Pool, kek)
	if err != nil {
		return err
	}
	for _, p := range allProjections(keystore) {
		if "projection:"+p.Name() == dl.Consumer {
			return projections.ReplayDeadLetter(ctx, d.svc.Pool, d.svc.Brokers, codec, p, d.cfg.TopicPrefix, id, "operator:"+operator())
		}
	}
	return fmt.Errorf("dead letter %s is %s's: only projections' dead letters are replayed here", id, dl.Consumer)
}

// Discard marks a pending dead letter as looked at and not to be applied.
func (d *DeadLetters) Discard(ctx context.Context, id, note string) error {
	return projections.DiscardDeadLetter(ctx, d.svc.Pool, id, "operator:"+operator(), note)
}

func (d *DeadLetters) openCodec(ctx context.Context) (*events.Codec, error) {
	if d.codec != nil {
		return d.codec, nil
	}
	codec, _, closeRegistry, err := openCodec(ctx, d.cfg, d.svc.Brokers, d.log)
	if err != nil {
		return nil, err
	}
	d.codec, d.close = codec, closeRegistry
	return codec, nil
}
