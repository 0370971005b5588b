package topics

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// SettleTimeout bounds how long Apply waits for the cluster to show what it changed.
const SettleTimeout = 30 * time.Second

// Apply carries out a plan computed by Diff: it creates the missing topics, sets the configs
// that differ (incrementally: other configs stay as they are) and raises partition counts. It
// returns once a fresh Diff is empty, so a following `topics apply` prints "no changes".
//
// It is safe to run concurrently with another Apply (two replicas starting at once): a topic
// someone else created in between is brought to the desired configs instead of failing.
func Apply(ctx context.Context, adm *kadm.Client, p Plan) error {
	if p.Empty() {
		return nil
	}
	var raced []Spec
	for _, s := range p.Creates {
		configs := make(map[string]*string, len(s.Configs))
		for k, v := range s.Configs {
			configs[k] = kadm.StringPtr(v)
		}
		resp, err := adm.CreateTopic(ctx, s.Partitions, s.ReplicationFactor, configs, s.Name)
		switch {
		case errors.Is(err, kerr.TopicAlreadyExists):
			raced = append(raced, s)
		case err != nil:
			return fmt.Errorf("create topic %s: %w%s", s.Name, err, detail(resp.ErrMessage))
		}
	}
	if err := alter(ctx, adm, p); err != nil {
		return err
	}

	// A change is acknowledged once the controller committed it; the broker answering the
	// next request may learn it a moment later. Wait until the cluster shows the plan done.
	ctx, cancel := context.WithTimeout(ctx, SettleTimeout)
	defer cancel()
	delay := 10 * time.Millisecond
	for {
		q, err := Diff(ctx, adm, p.desired)
		if err == nil && q.Empty() {
			return nil
		}
		if err == nil && len(raced) > 0 && len(q.Creates) == 0 {
			// Whoever created those topics did it with their own configs: set ours, once.
			raced = nil
			if err := alter(ctx, adm, q); err != nil {
				return err
			}
			continue
		}
		select {
		case <-ctx.Done():
			if err == nil {
				err = fmt.Errorf("still to do: %s", strings.Join(q.Changes(), "; "))
			}
			return fmt.Errorf("topics applied but the cluster does not show it after %s: %w", SettleTimeout, err)
		case <-time.After(delay):
		}
		delay = min(2*delay, 500*time.Millisecond)
	}
}

// alter applies a plan's config changes and partition increases.
func alter(ctx context.Context, adm *kadm.Client, p Plan) error {
	byTopic := map[string][]kadm.AlterConfig{}
	var order []string
	for _, a := range p.Alters {
		if _, ok := byTopic[a.Topic]; !ok {
			order = append(order, a.Topic)
		}
		byTopic[a.Topic] = append(byTopic[a.Topic], kadm.AlterConfig{Op: kadm.SetConfig, Name: a.Key, Value: kadm.StringPtr(a.New)})
	}
	for _, t := range order {
		resps, err := adm.AlterTopicConfigs(ctx, byTopic[t], t)
		if err == nil {
			var r kadm.AlterConfigsResponse
			if r, err = resps.On(t, nil); err == nil && r.Err != nil {
				err = fmt.Errorf("%w%s", r.Err, detail(r.ErrMessage))
			}
		}
		if err != nil {
			return fmt.Errorf("alter configs of %s: %w", t, err)
		}
	}
	for _, pi := range p.Partitions {
		resps, err := adm.UpdatePartitions(ctx, int(pi.To), pi.Topic)
		if err == nil {
			var r kadm.CreatePartitionsResponse
			if r, err = resps.On(pi.Topic, nil); err == nil && r.Err != nil {
				err = fmt.Errorf("%w%s", r.Err, detail(r.ErrMessage))
			}
		}
		// INVALID_PARTITIONS: someone else raised the count first (Diff never asks for a
		// decrease); Apply's final Diff checks the count is right.
		if err != nil && !errors.Is(err, kerr.InvalidPartitions) {
			return fmt.Errorf("raise partitions of %s to %d: %w", pi.Topic, pi.To, err)
		}
	}
	return nil
}

func detail(msg string) string {
	if msg == "" {
		return ""
	}
	return " (" + msg + ")"
}
