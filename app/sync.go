package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os/user"
	"time"

	"github.com/google/uuid"
	"github.com/schollz/progressbar/v3"

	"github.com/storeline/storeline/commands/shopify"
	"github.com/storeline/storeline/config"
	"github.com/storeline/storeline/eventlog"
	"github.com/storeline/storeline/events"
	"github.com/storeline/storeline/pii"
	"github.com/storeline/storeline/topics"
	"github.com/storeline/storeline/workflows/bulksync"
)

// SyncRun runs a bulk sync of shop from the command line, in this process, showing its progress
// on progress: it finishes the shop's unfinished run if there is one (after a crash, the same
// command resumes it), or runs a new one, incremental or full. It needs the deployment's Kafka
// and PostgreSQL: with the embedded defaults, ask the running storeline (POST /api/v1/sync).
func SyncRun(ctx context.Context, cfg *config.Config, log *slog.Logger, shop string, full bool, progress io.Writer) (string, error) {
	if len(cfg.KafkaBrokers) == 0 || cfg.DatabaseURL == "" {
		return "", errors.New("storeline sync run needs STORELINE_KAFKA_BROKERS and STORELINE_DATABASE_URL; with the embedded defaults, POST /api/v1/sync to the running storeline")
	}
	svc, err := StartServices(ctx, cfg, log, true)
	if err != nil {
		return "", err
	}
	defer svc.Close()
	if err := topics.Ensure(ctx, svc.Brokers, topics.SettingsFrom(cfg), log); err != nil {
		return "", err
	}
	codec, _, closeRegistry, err := openCodec(ctx, cfg, svc.Brokers, log)
	if err != nil {
		return "", err
	}
	defer closeRegistry()
	producer, err := eventlog.NewProducer(svc.Brokers, codec, nil)
	if err != nil {
		return "", err
	}
	defer producer.Close()
	kek, err := piiKey(cfg, svc.Embedded)
	if err != nil {
		return "", err
	}
	keystore, err := pii.NewKeystore(svc.Pool, kek)
	if err != nil {
		return "", err
	}
	bars := progressBars(progress)
	wf, err := bulkSyncFor(cfg, shop, bulkSyncDeps{brokers: svc.Brokers, prefix: cfg.TopicPrefix, codec: codec, log: producer,
		pool: svc.Pool, seal: shopify.PersonalData{Sealer: pii.NewSealer(keystore)}, logger: log, progress: bars})
	if err != nil {
		return "", err
	}
	mode := bulksync.ModeIncremental
	if full {
		mode = bulksync.ModeFull
	}
	return wf.Sync(ctx, uuid.NewString(), mode, "cli", events.SourceOperator, events.Actor{Type: events.ActorOperator, ID: operator()})
}

// progressBars draws one bar per resource: rows read of those Shopify counted, rows/s, ETA.
func progressBars(w io.Writer) func(bulksync.Progress) {
	bars := map[string]*progressbar.ProgressBar{}
	return func(p bulksync.Progress) {
		bar, ok := bars[p.Resource]
		if !ok {
			bar = progressbar.NewOptions64(p.Total,
				progressbar.OptionSetWriter(w),
				progressbar.OptionSetDescription(fmt.Sprintf("%-8s", p.Resource)),
				progressbar.OptionShowCount(),
				progressbar.OptionShowIts(),
				progressbar.OptionSetItsString("rows"),
				progressbar.OptionThrottle(progressThrottle),
				progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }),
			)
			bars[p.Resource] = bar
		}
		_ = bar.Set64(p.Rows)
		if p.Done {
			_ = bar.Finish()
		}
	}
}

const progressThrottle = 200 * time.Millisecond

func operator() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return "unknown"
}
