package topics

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Ensure is `storeline topics apply` at start-up: it brings the cluster's topics to the desired
// ones, logging each change and each warning instead of printing a diff. A broker still starting
// is waited for up to 30 s. It never adds partitions to an existing topic: that sends a key's
// new events to another partition than its old ones, and only an operator running
// `storeline topics apply` should decide it.
func Ensure(ctx context.Context, brokers []string, s Settings, log *slog.Logger) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		return fmt.Errorf("kafka admin client: %w", err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)

	desired := Desired(s)
	deadline := time.Now().Add(30 * time.Second)
	var p Plan
	for {
		if p, err = Diff(ctx, adm, desired); err == nil {
			break
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("ensure topics: %w", err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(500 * time.Millisecond):
		}
	}
	if len(p.Partitions) > 0 {
		for _, inc := range p.Partitions {
			log.Warn("topic has fewer partitions than configured; left as it is",
				"topic", inc.Topic, "partitions", inc.From, "configured", inc.To, "to_add_them", "storeline topics apply")
			for i := range desired {
				if desired[i].Name == inc.Topic {
					desired[i].Partitions = inc.From
				}
			}
		}
		if p, err = Diff(ctx, adm, desired); err != nil {
			return fmt.Errorf("ensure topics: %w", err)
		}
	}
	for _, w := range p.Warnings {
		log.Warn("topic left as it is", "reason", w)
	}
	for _, c := range p.Changes() {
		log.Info("topic change", "change", c)
	}
	if err := Apply(ctx, adm, p); err != nil {
		return fmt.Errorf("ensure topics: %w", err)
	}
	return nil
}
